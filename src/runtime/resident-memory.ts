/**
 * What `ig run` keeps resident, in one place (issue 16's memory target; figures in bench/README.md).
 *
 * - releaseStartupMemory(): what start-up touched once (Node's own start-up code and snapshot,
 *   the module loader, the compiler's scratch memory, libbpf's parse of the kernel BTF) stays
 *   mapped and counted in RSS until given back. Called in two steps by a local `ig run` (not for a
 *   snapshotter, whose run ends right after): once the image is read and once the first events are
 *   written (cli/run/run-main.ts); the pages still in use come back on
 *   their own (minor faults from the page cache). See native/src/memory.cc.
 *   As ig starts from the start-up snapshot, the first step maps the blob's page image
 *   (dist/cli.snapshot/ig.blob.pages) over node's copy of the snapshot's V8 data, which node
 *   keeps for the whole run (3.8 MB, all resident, read again only to create a V8 context).
 *   bin/ig has malloc put that copy in its heap (huge pages, ~15 ms less start-up), at a place in
 *   its page that moves with the length of the command line: an image of each such layout is
 *   kept under the cache folder (snapshot-pages/, a few at most; native/src/memory.cc).
 * - forgetLauncherTunables(): bin/ig runs `ig run` with one malloc arena (GLIBC_TUNABLES, read by
 *   glibc as node starts) and V8's heap pages faulted in as V8 commits them (LD_PRELOAD of
 *   native/build/ig-heap-arena.so); the programs ig runs (mount, tc) get the user's environment back.
 * - keepYoungGenerationSmall(): V8 doubles its young generation (semi-spaces of 1 MiB, 2 MiB
 *   from the start-up snapshot, up to 16 MiB) while many objects survive a scavenge, as they do
 *   at a run's start; at a few hundred
 *   thousand events/s it reached 2 x 2 MiB, kept for the whole run. V8 reads this growth factor
 *   each time it would grow, so setting it here (after start-up) works, unlike
 *   --max-semi-space-size, which only a node command line (the launcher) can set (and unlike
 *   --semi-space-growth-factor on that command line: V8 raises values below 2 when it sets up
 *   the heap). `ig daemon` too: its young generation had grown to 2 x 4 MiB while it started,
 *   and while a client streamed, a full mark-compact followed nearly every scavenge (47 in 8 s,
 *   ~25 % of the agent's CPU samples; 8 with this), bench/README.md "Remote streaming, round three".
 */
import { setFlagsFromString } from 'node:v8';
import { native } from './native.js';
import { cacheDir } from '../gadget/cache-dir.js';

/**
 * 'starting': a run whose events come from elsewhere (a daemon, a cluster): everything at once.
 * 'image read': a gadget about to be loaded here: only node's copy of the snapshot, which nothing reads
 *   again. Its file pages wait: dropped now, the code that loads and attaches the gadget faulted
 *   them back on the way to the first event (~15 ms of 40 from the image read to the first line on
 *   a 2-core VM; bench/README.md "Start-up, round six"), for ~3.5 MB more at the start-up peak.
 *   Started without the snapshot: everything, as 'starting'.
 * 'attached': once the first events are out, the file pages and malloc's free memory.
 */
export function releaseStartupMemory(when: 'starting' | 'image read' | 'attached'): void {
  if (process.platform !== 'linux' || process.env.IG_KEEP_STARTUP_PAGES) return;
  try {
    // as ig starts, the heap holds little to trim (malloc_trim walks every arena: ~6 ms of CPU)
    if (when === 'attached') return native().releaseUnusedMemory(true, undefined, true);
    const pages = snapshotPages();
    // without the snapshot (`node bin/ig.js`) start-up compiled the ES module bundle: its pages
    // go at once as before, or a busy run's first batches find them still resident (peak RSS of
    // the bench's throughput runs 56 -> 64-76 MB)
    native().releaseUnusedMemory(false, pages, when === 'starting' || pages === undefined, pages && cacheDir('snapshot-pages'));
  } catch {
    // an optimisation only: a run that needs the addon says so itself where it loads it
  }
}

/** The page image beside the start-up snapshot this process started from (bin/ig: `node --snapshot-blob BLOB`). */
function snapshotPages(): string | undefined {
  const i = process.execArgv.indexOf('--snapshot-blob');
  return i >= 0 && i + 1 < process.execArgv.length ? `${process.execArgv[i + 1]}.pages` : undefined;
}

export function forgetLauncherTunables(): void {
  if (process.env.IG_LAUNCHER_TUNABLES === '1') {
    delete process.env.GLIBC_TUNABLES;
    delete process.env.IG_LAUNCHER_TUNABLES;
  }
  if (process.env.IG_LAUNCHER_PRELOAD === '1') {
    delete process.env.LD_PRELOAD;
    delete process.env.IG_LAUNCHER_PRELOAD;
    delete process.env.IG_LAUNCHER_ADDON;
  }
}

export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
