import elf from './elf.js';
import layout from './layout.js';
import text from './text.js';
import manifest from './manifest.js';
import tar from './tar.js';

/** Every input kind, in the order `npm run fuzz` runs them. */
export const TARGETS = { elf, layout, text, manifest, tar };
