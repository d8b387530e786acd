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
import { readFileSync } from 'node:fs';
import { bootEntryPath, framedEntry, keepBootEntry, kernelKey, readFramedEntry } from './boot-cache.js';
import { native } from './native.js';

/** Bump when what an entry holds changes. */
const FORMAT = 1;
const MAGIC = 'ig-kernel-features\n';

/** The features given to libbpf in this process (what the file held), once read. */
let given: Buffer | undefined;

function entryPath(kernel: string): string | undefined {
  return bootEntryPath('kernel-features', FORMAT, kernel);
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
  const entry = readFramedEntry<{ kernel?: unknown }>(bytes, MAGIC);
  if (!entry) return 'probed (cache entry unreadable)';
  const { header, body: features } = entry;
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
  const kept = keepBootEntry(file, framedEntry(MAGIC, { kernel }, now));
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
