/**
 * What the per-boot caches of the runtime share (the minimal CO-RE BTF, core-btf-cache.ts; libbpf's
 * kernel feature probes, kernel-features-cache.ts): the kernel's key, where an entry lives, its
 * framing (a magic line, a JSON header line holding the key again, then the bytes), and writing an
 * entry, which also removes those no run of this boot can use.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cacheDir, writeCacheEntry } from '../gadget/cache-dir.js';
import { packageVersion } from '../paths.js';
import { native } from './native.js';

/**
 * This kernel's identity as far as its BTF and features go: neither can change within a boot, so
 * the boot id names it (release and version are there for people reading an entry; libbpf's version
 * because what it asks and computes may change with it). Null: no boot id (then nothing is cached).
 */
export function kernelKey(): string | null {
  if (kernel === undefined) {
    try {
      const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      kernel = [boot, os.release(), os.version(), native().libbpfVersion()].join(' ');
    } catch {
      kernel = null;
    }
  }
  return kernel;
}
/** kernelKey() of this process (a boot outlives it) */
let kernel: string | null | undefined;

/**
 * The file of an entry under the cache folder's `sub`: ig's version, the entry format, `name` when
 * the cache holds one entry per thing (an object's digest), and a hash of `kernel`. Undefined with
 * IG_CACHE_DIR=off.
 */
export function bootEntryPath(sub: string, format: number, kernel: string, name?: string): string | undefined {
  const dir = cacheDir(sub);
  const k = createHash('sha256').update(kernel).digest('hex').slice(0, 16);
  return dir && path.join(dir, `${packageVersion()}-${format}-${name ? `${name}-` : ''}${k}.bin`);
}

/** An entry's bytes: `magic` (ending in a newline), `header` as one JSON line, then `body`. */
export function framedEntry(magic: string, header: object, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(magic + JSON.stringify(header) + '\n'), body]);
}

/** The header and body of an entry framed by framedEntry(), or undefined when it is not one. */
export function readFramedEntry<H>(bytes: Buffer, magic: string): { header: H; body: Buffer } | undefined {
  const end = bytes.indexOf(0x0a, magic.length);
  if (!bytes.subarray(0, magic.length).equals(Buffer.from(magic)) || end < 0) return undefined;
  try {
    return { header: JSON.parse(bytes.subarray(magic.length, end).toString('utf8')) as H, body: bytes.subarray(end + 1) };
  } catch {
    return undefined;
  }
}

/** Write an entry whole (or not at all); whether it was written. */
export function keepBootEntry(file: string, bytes: Buffer): boolean {
  const kept = writeCacheEntry(file, bytes);
  if (kept) pruneEarlierBoots(path.dirname(file));
  return kept;
}

/**
 * Entries written before this boot can never match again (the boot id is in their key): remove
 * them when writing a new one, so the folder holds one boot's entries, not one per boot forever.
 */
function pruneEarlierBoots(dir: string): void {
  const bootedAt = Date.now() - os.uptime() * 1000;
  try {
    for (const name of readdirSync(dir)) {
      const f = path.join(dir, name);
      if (name.endsWith('.bin') && statSync(f).mtimeMs < bootedAt) rmSync(f, { force: true });
    }
  } catch {
    // another run pruning at the same time, or a folder we cannot change: next time
  }
}
