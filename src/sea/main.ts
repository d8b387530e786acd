/**
 * Entry of the single executable (`npm run build:sea` → dist/ig): unpack the carried files, point
 * packageRoot at them, then run the same CLI as bin/ig.js. The CLI is imported dynamically so that
 * none of its modules (paths.ts above all) is evaluated before the package root is known.
 */
import { handleError } from '../cli/errors.js';
import { unpack } from './unpack.js';

try {
  globalThis.__igPackageRoot = unpack();
  void import('../cli/main.js').then((m) => m.main(process.argv.slice(2)));
} catch (e) {
  process.exitCode = handleError(e);
}
