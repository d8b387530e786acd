/**
 * ig's cache folder, shared by the caches of things derived from an image's bytes (gadget.yaml
 * parsed, the CO-RE BTF of an object): IG_CACHE_DIR, else $XDG_CACHE_HOME/ig, else ~/.cache/ig;
 * IG_CACHE_DIR=off turns these caches off. Entries are written whole or not at all.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The folder `sub` of the cache, or undefined when caching is off. */
export function cacheDir(sub: string): string | undefined {
  const env = process.env.IG_CACHE_DIR;
  if (env === 'off') return undefined;
  const root = env || (process.env.XDG_CACHE_HOME ? path.join(process.env.XDG_CACHE_HOME, 'ig') : path.join(process.env.HOME || os.homedir(), '.cache', 'ig'));
  return path.join(root, sub);
}

/**
 * Write a cache entry atomically (a temp file renamed over it: readers see the old entry or the
 * new one, also with runs writing at once). False when it cannot be written (read-only or full
 * disk): a cache is never a reason to fail.
 */
export function writeCacheEntry(file: string, data: string | Uint8Array): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, file);
    return true;
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing more to do about a folder we cannot write
    }
    return false;
  }
}
