/**
 * Resident memory a long run does not need kept: what start-up touched once (Node's own start-up
 * code and snapshot, the module loader, the compiler's scratch memory, libbpf's parse of the
 * kernel BTF) stays mapped and counted in RSS until given back. Called by `ig run` as it starts
 * (src/cli/main.ts) and again once the gadget is attached (cli/run/run-main.ts); the pages still in use come back on their
 * own (minor faults from the page cache). See native/src/memory.cc and bench/README.md.
 */
import { native } from './native.js';

export function releaseStartupMemory(): void {
  if (process.platform !== 'linux' || process.env.IG_KEEP_STARTUP_PAGES) return;
  native().releaseUnusedMemory();
}
