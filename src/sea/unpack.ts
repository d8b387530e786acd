/**
 * The single executable carries ig's files (the native addon, .proto files, headers, the built-in
 * gadgets) as SEA assets. Node can only dlopen an addon from a file, and protobuf and clang read
 * paths, so the files are written once into a private cache folder laid out like the package, and
 * reused by every later start of the same build (the folder is named by the build's content hash).
 */
import { getAsset, getRawAsset } from 'node:sea';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IgError } from '../errors.js';

/** Written by scripts/build-sea.mjs as the asset `ig-files.json`. */
export interface PackedFiles {
  /** sha256 of every packed file's path, mode and bytes: a new build gets a new folder */
  id: string;
  files: { path: string; mode: number }[];
}

const MARKER = '.complete';

/** Where unpacked builds live: $IG_CACHE_DIR, else $XDG_CACHE_HOME/ig, else ~/.cache/ig. */
export function cacheBase(env: NodeJS.ProcessEnv = process.env): string {
  if (env.IG_CACHE_DIR) return env.IG_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'ig');
  return path.join(env.HOME || os.homedir(), '.cache', 'ig');
}

/**
 * A folder we may trust: a real directory (not a symlink), owned by us, writable by nobody else,
 * holding the marker written after the last file. Anything else is unpacked afresh.
 */
function usable(dir: string): boolean {
  try {
    const st = fs.lstatSync(dir);
    if (!st.isDirectory() || (st.mode & 0o022) !== 0) return false;
    if (process.getuid && st.uid !== process.getuid()) return false;
    return fs.statSync(path.join(dir, MARKER)).isFile();
  } catch {
    return false;
  }
}

function writeAll(into: string, packed: PackedFiles): void {
  for (const f of packed.files) {
    const dest = path.join(into, f.path);
    fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
    // getRawAsset: the bytes in the executable itself, no copy (typed string | ArrayBuffer; always bytes here)
    fs.writeFileSync(dest, new Uint8Array(getRawAsset(f.path) as ArrayBuffer), { mode: f.mode });
  }
  fs.writeFileSync(path.join(into, MARKER), packed.id);
}

/** Unpack into the cache (or reuse an earlier unpack); returns the folder to use as the package root. */
export function unpack(): string {
  const packed = JSON.parse(getAsset('ig-files.json', 'utf8')) as PackedFiles;
  const base = cacheBase();
  const dir = path.join(base, `sea-${packed.id.slice(0, 16)}`);
  if (usable(dir)) return dir;
  try {
    fs.mkdirSync(base, { recursive: true, mode: 0o700 });
    const tmp = fs.mkdtempSync(path.join(base, '.unpack-'));
    try {
      writeAll(tmp, packed);
      fs.rmSync(dir, { recursive: true, force: true }); // an unusable leftover (half-written, foreign owner)
      fs.renameSync(tmp, dir);
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      // Another ig started at the same moment and won the rename: use its copy.
      if (usable(dir)) return dir;
      throw e;
    }
    return dir;
  } catch (cacheErr) {
    // No writable cache (read-only root file system, no HOME): a private folder for this process only.
    let tmp: string | undefined;
    try {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-sea-'));
      writeAll(tmp, packed);
    } catch (tmpErr) {
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
      throw new IgError('internal', `cannot unpack ig's files: ${base}: ${(cacheErr as Error).message}; ${os.tmpdir()}: ${(tmpErr as Error).message}`, {
        hint: 'set IG_CACHE_DIR to a writable folder on a file system that allows executables',
      });
    }
    process.once('exit', () => fs.rmSync(tmp!, { recursive: true, force: true }));
    return tmp;
  }
}
