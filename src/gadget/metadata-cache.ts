/**
 * gadget.yaml parsed once per content: loading the YAML parser and parsing trace_open's 3 KB
 * cold takes ~40 ms, a sixth of a run's start-up, and is the same every time for an image.
 * The document is kept as JSON under the cache folder, named by the SHA-256 of the bytes and
 * ig's version, so an entry can only ever stand for those exact bytes. A cache that cannot be
 * read or written is not an error: the YAML is parsed as before. Documents JSON cannot carry
 * as they are (.inf, .nan, non-plain values) are never cached.
 *
 * Folder: `metadata/` under IG_CACHE_DIR, else $XDG_CACHE_HOME/ig, else ~/.cache/ig (where the
 * single executable unpacks too, sea/unpack.ts); IG_CACHE_DIR=off turns this cache off.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageVersion } from '../paths.js';
import { cacheDir, writeCacheEntry } from './cache-dir.js';
import type { GadgetMetadata } from './metadata.js';

/** Bump when what parseMetadata returns for the same text changes. */
const FORMAT = 1;

/** gadget.yaml's bytes → its document (null: none), from the cache when these bytes were parsed before. */
export async function readMetadata(bytes: Buffer | null): Promise<GadgetMetadata | null> {
  if (bytes === null) return null;
  const dir = cacheDir('metadata');
  const file = dir && path.join(dir, `${packageVersion()}-${FORMAT}-${createHash('sha256').update(bytes).digest('hex')}.json`);
  if (file) {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as GadgetMetadata | null;
    } catch {
      // not cached yet (or unreadable): parse
    }
  }
  const { parseMetadata } = await import('./metadata-parse.js');
  const doc = parseMetadata(bytes); // throws on bad YAML: nothing is cached then
  // a read-only or full disk: parse next time too
  if (file && plainData(doc)) writeCacheEntry(file, JSON.stringify(doc));
  return doc;
}

/** True when JSON gives back exactly this value. */
function plainData(v: unknown): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0);
  if (Array.isArray(v)) return v.every(plainData);
  if (typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return false;
  return Object.entries(v as Record<string, unknown>).every(([k, x]) => k !== '__proto__' && plainData(x));
}
