/**
 * libbpf's kernel feature probes, kept per boot. Before its first load in a process libbpf asks
 * the kernel what it supports (program names, global data, BTF kinds, perf links, ...): ~15 probe
 * syscalls that load a tiny program, map or BTF each, ~1 ms of every `ig run`'s start. What a
 * kernel supports cannot change within a boot, so the answers of one run are given to the next
 * (native/src/kernel_features.c reads and fills libbpf's own cache of them).
 *
 * Like the CO-RE BTF cache (core-btf-cache.ts): one file per boot (boot id, release and version,
 * libbpf's version in the key, which is also inside and checked), written only after a load
 * succeeded, and only "supported" answers are kept: a feature libbpf found missing is asked again,
 * so a probe that failed for a passing reason (memory, a limit) costs one probe, not a boot of
 * wrong answers. IG_CACHE_DIR=off turns it off with the other caches.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDir, writeCacheEntry } from '../gadget/cache-dir.js';
import { packageVersion } from '../paths.js';
import { kernelKey, pruneEarlierBoots } from './core-btf-cache.js';
import { native } from './native.js';

/** Bump when what an entry holds changes. */
const FORMAT = 1;
const MAGIC = 'ig-kernel-features\n';

/** The features given to libbpf in this process (what the file held), once read. */
let given: Buffer | undefined;

function entryPath(kernel: string): string | undefined {
  const dir = cacheDir('kernel-features');
  const k = createHash('sha256').update(kernel).digest('hex').slice(0, 16);
  return dir && path.join(dir, `${packageVersion()}-${FORMAT}-${k}.bin`);
}

/** Before a load: this boot's kept answers to libbpf (once per process; never throws). IG_DEBUG says what was used. */
export function presetKernelFeatures(): void {
  if (given) return;
  given = Buffer.alloc(native().kernelFeatures().length);
  debug(preset(given));
}

function preset(into: Buffer): string {
  const kernel = kernelKey();
  const file = kernel && entryPath(kernel);
  if (!file) return kernel ? 'probed (IG_CACHE_DIR=off)' : 'probed (no boot id)';
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return 'probed (not cached yet)';
  }
  const end = bytes.indexOf(10, MAGIC.length);
  let header: { kernel?: unknown };
  try {
    if (end < 0 || bytes.toString('latin1', 0, MAGIC.length) !== MAGIC) throw new Error();
    header = JSON.parse(bytes.toString('utf8', MAGIC.length, end)) as { kernel?: unknown };
  } catch {
    return 'probed (cache entry unreadable)';
  }
  const features = bytes.subarray(end + 1);
  if (header.kernel !== kernel) return 'probed (cache entry made on another kernel)';
  if (features.length !== into.length || features.some((r) => r !== 0 && r !== SUPPORTED)) return 'probed (cache entry damaged)';
  native().presetKernelFeatures(features);
  features.copy(into);
  return `${supported(features)} supported from the cache`;
}

/** After a load that succeeded: keep what libbpf found supported, when it found more than was given. */
export function keepKernelFeatures(): void {
  const kernel = kernelKey();
  const file = kernel && entryPath(kernel);
  if (!file || !given) return;
  const now = Buffer.from(native().kernelFeatures().map((r) => (r === SUPPORTED ? SUPPORTED : 0)));
  if (now.every((r, i) => r !== SUPPORTED || given![i] === SUPPORTED)) return;
  const kept = writeCacheEntry(file, Buffer.concat([Buffer.from(MAGIC + JSON.stringify({ kernel }) + '\n'), now]));
  if (kept) pruneEarlierBoots(path.dirname(file));
  given = now;
  debug(`${supported(now)} supported, ${kept ? 'now cached' : 'cache folder not writable'}`);
}

function supported(features: Buffer): number {
  return features.filter((r) => r === SUPPORTED).length;
}

function debug(note: string): void {
  if (process.env.IG_DEBUG) process.stderr.write(`debug: kernel features: ${note}\n`);
}

/** libbpf's FEAT_SUPPORTED (enum kern_feature_result). */
const SUPPORTED = 1;
