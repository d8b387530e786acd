/**
 * Where ig's own files are (native/, bpf/, spec/, the .proto files): the nearest folder above
 * this module holding package.json. Found by looking rather than by a fixed `../..`, because the
 * module runs from src/ (tests), dist/ (the library) and dist/cli.bundle/ (the CLI) alike.
 * The single executable (src/sea/) unpacks the same files into a cache folder and names it in
 * `globalThis.__igPackageRoot` before any other module loads.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let d = here; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'package.json'))) return d;
    if (path.dirname(d) === d) return path.resolve(here, '..');
  }
}

declare global {
  // eslint-disable-next-line no-var
  var __igPackageRoot: string | undefined;
}

export const packageRoot = globalThis.__igPackageRoot ?? findRoot();

let version: string | undefined;

/** ig's version, from its package.json (read once: the caches name their entries by it on every run). */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
