/**
 * Where ig's own files are (native/, bpf/, spec/, the .proto files): the nearest folder above
 * this module holding package.json. Found by looking rather than by a fixed `../..`, because the
 * module runs from src/ (tests), dist/ (the library) and dist/cli.bundle/ (the CLI) alike.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let d = here; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'package.json'))) return d;
    if (path.dirname(d) === d) return path.resolve(here, '..');
  }
}

export const packageRoot = findRoot();
