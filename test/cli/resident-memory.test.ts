// ig run gives back what start-up touched once (issue 16's memory target): Node's binary and the
// libraries' file pages are unmapped from the process (the page cache keeps them), the malloc
// arenas trimmed. A user sees a smaller RSS in top/ps for the same run, and the run goes on.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnIg, repoRoot } from '../helpers/ig.js';
import { waitFor } from '../helpers/kernel.js';
import { fileOpener } from '../helpers/opener.js';

/** VmRSS and RssFile of a live process, in MB. */
function resident(pid: number): { rss: number; file: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)![1]) / 1024;
  return { rss: kb('VmRSS'), file: kb('RssFile') };
}

/** The mappings of a live process, one /proc/PID/smaps entry each (its first line is the mapping's). */
function smapsOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/smaps`, 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/);
}

/** A kB figure of one smaps entry (Size, Rss, AnonHugePages...); 0 when the kernel does not show it. */
function kbOf(mapping: string, key: string): number {
  return Number(new RegExp(`\\n${key}:\\s+(\\d+)`).exec(mapping)?.[1] ?? 0);
}

/**
 * `ig run trace_open -o json --pid P` (by `node bin/ig.js`, or by `bin/ig` with `fromSnapshot`) until events flow,
 * then its memory a second later (and what `look` reads of the live process) and the events after that.
 */
async function idleRun<T = undefined>(
  pid: number,
  file: string,
  env: NodeJS.ProcessEnv,
  { fromSnapshot = false, look }: { fromSnapshot?: boolean; look?: (igPid: number) => T } = {},
): Promise<{ rss: number; file: number; eventsAfter: number; looked?: T }> {
  const args = ['run', 'trace_open', '-o', 'json', '--pid', String(pid)];
  const ig = fromSnapshot ? spawn(path.join(repoRoot, 'bin', 'ig'), args, { env, stdio: ['ignore', 'pipe', 'pipe'] }) : spawnIg(args, { env });
  let out = '';
  let err = '';
  ig.stdout!.on('data', (d) => (out += d));
  ig.stderr!.on('data', (d) => (err += d));
  try {
    await waitFor(() => out.includes(file) || ig.exitCode !== null, 30_000, 'the first event');
    expect(ig.exitCode, err).toBeNull();
    await new Promise((r) => setTimeout(r, 1000));
    const mem = resident(ig.pid!);
    const looked = look?.(ig.pid!);
    const seen = out.length;
    await new Promise((r) => setTimeout(r, 500));
    const after = out.slice(seen).split('\n').filter((l) => l.includes(file));
    for (const l of after) expect(JSON.parse(l).pid).toBe(pid);
    return { ...mem, eventsAfter: after.length, looked };
  } finally {
    ig.kill('SIGINT');
    await new Promise((r) => ig.once('close', r));
  }
}

describe('resident memory of ig run', () => {
  it('an idle trace_open keeps >= 10 MB less resident than with its start-up pages kept, and goes on reporting the opens it traces', async () => {
    const o = fileOpener(20);
    try {
      // alternating, so the machine's drift falls on both
      const given: number[] = [];
      const kept: number[] = [];
      for (let i = 0; i < 2; i++) {
        const a = await idleRun(o.pid, o.file, { ...process.env, IG_KEEP_STARTUP_PAGES: '' });
        const b = await idleRun(o.pid, o.file, { ...process.env, IG_KEEP_STARTUP_PAGES: '1' });
        expect(a.eventsAfter, 'events after the pages were given back').toBeGreaterThan(5);
        expect(b.eventsAfter).toBeGreaterThan(5);
        given.push(a.rss);
        kept.push(b.rss);
      }
      expect(Math.max(...given) + 10, `RSS given back ${given} MB, kept ${kept} MB`).toBeLessThan(Math.min(...kept));
    } finally {
      o.stop();
    }
  }, 120_000);

  it('dropCleanFilePages unmaps clean file pages only: relocated data, code and JS heap keep working', () => {
    // A process that drops its file pages, then uses code and data of every kind: Node's
    // builtins and OpenSSL (file pages fault back in), the addon's GOT (RELRO: copied on write,
    // must be kept), its heap. It prints its RssFile before and after, then the results.
    const addon = path.join(repoRoot, 'native', 'build', 'ig_native.node');
    const script = `
      const n = require(${JSON.stringify(addon)});
      const fs = require('fs');
      const file = () => Number(/RssFile:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
      const big = Array.from({ length: 100000 }, (_, i) => ({ i, s: 'x' + i }));
      const before = file();
      const dropped = n.dropCleanFilePages();
      const after = file();
      const hash = require('crypto').createHash('sha256').update('abc').digest('hex');
      const sum = big.reduce((a, o) => a + o.i + o.s.length, 0);
      console.log(JSON.stringify({ before, after, dropped, hash, sum, libbpf: n.libbpfVersion(), cpus: n.numPossibleCpus() }));
    `;
    const child = spawn(process.execPath, ['-e', script]);
    return new Promise<void>((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (code, signal) => {
        try {
          expect({ code, signal }, err).toEqual({ code: 0, signal: null });
          const r = JSON.parse(out);
          expect(r.dropped).toBeGreaterThan(10 * 1048576);
          expect(r.after, `RssFile ${r.before} → ${r.after} kB`).toBeLessThan(r.before - 10 * 1024);
          expect(r.hash).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
          let sum = 0;
          for (let i = 0; i < 100000; i++) sum += i + `x${i}`.length;
          expect(r.sum).toBe(sum);
          expect(r.libbpf).toMatch(/^v?1\.\d+/);
          expect(r.cpus).toBeGreaterThan(0);
          resolve();
        } catch (e) {
          reject(e);
        }
      });
    });
  });

  it('shareSnapshotCopy maps a file over an equal malloc\'d copy only: the copy leaves RSS, reads and writes still see its bytes', () => {
    // What ig does to node's copy of the start-up snapshot, on a copy of our own: a 4 MB block
    // (malloc maps it on its own, as node's), a file holding it page for page; a file that
    // differs in one byte is refused.
    const addon = path.join(repoRoot, 'native', 'build', 'ig_native.node');
    const dir = mkdtempSync(path.join(tmpdir(), 'ig-share-'));
    const script = `
      const n = require(${JSON.stringify(addon)});
      const fs = require('fs');
      const anon = () => Number(/RssAnon:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
      const size = 4 * 1048576 + 1000;
      const copy = Buffer.allocUnsafeSlow(size);
      for (let i = 0; i < size; i += 4) copy.writeUInt32LE((i * 2654435761) >>> 0, i);
      const sum = () => require('crypto').createHash('sha256').update(copy).digest('hex');
      const hash = sum();
      // the file starts where malloc's block does: 16 bytes of chunk header before the data
      const image = Buffer.concat([Buffer.alloc(16), copy]);
      const bad = Buffer.from(image); bad[3 * 4096 + 5] ^= 1;
      fs.writeFileSync(${JSON.stringify(dir)} + '/bad', bad);
      fs.writeFileSync(${JSON.stringify(dir)} + '/good', image);
      const refused = n.shareSnapshotCopy(${JSON.stringify(dir)} + '/bad');
      const before = anon();
      const shared = n.shareSnapshotCopy(${JSON.stringify(dir)} + '/good');
      const after = anon();
      const same = sum() === hash;
      copy[100000] ^= 0xff; copy[100000] ^= 0xff; copy[2 * 1048576] = copy[2 * 1048576];
      console.log(JSON.stringify({ refused, shared, before, after, same, again: sum() === hash }));
    `;
    try {
      const r = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
      expect(r.refused).toBe(0);
      expect(r.shared).toBeGreaterThan(4 * 1048576 - 3 * 4096);
      expect(r.after, `RssAnon ${r.before} → ${r.after} kB`).toBeLessThan(r.before - 3 * 1024);
      expect(r.same).toBe(true);
      expect(r.again).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shareSnapshotCopy finds a copy anywhere in its page (malloc\'s heap), keeps one image of that layout and shares the copy through it', () => {
    // node's copy where bin/ig's tunables put it: inside a larger malloc'd block (16-byte aligned,
    // as malloc's blocks are), its data not 16
    // bytes into a page as the page image assumes
    const addon = path.join(repoRoot, 'native', 'build', 'ig_native.node');
    const dir = mkdtempSync(path.join(tmpdir(), 'ig-share-'));
    const script = (within: number, images: string | undefined) => `
      const n = require(${JSON.stringify(addon)});
      const fs = require('fs');
      const anon = () => Number(/RssAnon:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
      const size = 4 * 1048576 + 1000;
      const block = Buffer.allocUnsafeSlow(size + 8192);
      // a data start 16 bytes past a page boundary is the page image's own layout: move off it
      const inPage = (block.byteOffset + ${within}) % 4096;
      const copy = block.subarray(${within} + (inPage === 16 ? 32 : 0), ${within} + (inPage === 16 ? 32 : 0) + size);
      for (let i = 0, x = 2463534242; i < size; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; copy[i] = x & 0xff; }
      const hash = () => require('crypto').createHash('sha256').update(copy).digest('hex');
      const before = hash();
      // written as it is (a concatenated buffer would be a second copy in memory)
      const fd = fs.openSync(${JSON.stringify(dir)} + '/image', 'w');
      fs.writeSync(fd, Buffer.alloc(16));
      fs.writeSync(fd, copy);
      fs.closeSync(fd);
      const rss = anon();
      const shared = n.shareSnapshotCopy(${JSON.stringify(dir)} + '/image'${images ? `, ${JSON.stringify(images)}` : ''});
      console.log(JSON.stringify({ shared, freed: rss - anon(), same: hash() === before }));
    `;
    const run = (within: number, images?: string) => JSON.parse(execFileSync(process.execPath, ['-e', script(within, images)], { encoding: 'utf8' }));
    try {
      expect(run(1008).shared, 'without a folder for the image the copy stays').toBe(0);
      const images = path.join(dir, 'images');
      const first = run(1008, images);
      expect(first.shared).toBeGreaterThan(4 * 1048576 - 3 * 4096);
      expect(first.freed, 'kB of RssAnon given back').toBeGreaterThan(3 * 1024);
      expect(first.same).toBe(true);
      const kept = readdirSync(images);
      expect(kept).toHaveLength(1);
      expect(kept[0]).toMatch(/^[0-9a-f]{16}-\d+$/);
      // another process with the same layout uses that image; each other layout gets one, 8 at most
      expect(run(1008, images).shared).toBeGreaterThan(4 * 1048576 - 3 * 4096);
      expect(readdirSync(images)).toEqual(kept);
      // an image others may write is not used (a page is read from the file again when it is faulted back):
      // it is written anew, this user's only
      chmodSync(path.join(images, kept[0]), 0o666);
      expect(run(1008, images).shared).toBeGreaterThan(4 * 1048576 - 3 * 4096);
      expect(statSync(path.join(images, kept[0])).mode & 0o777).toBe(0o600);
      for (let i = 1; i <= 10; i++) expect(run(1008 + 48 * i, images).shared).toBeGreaterThan(4 * 1048576 - 3 * 4096);
      expect(readdirSync(images)).toHaveLength(8);
      expect(readdirSync(images).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ig run from the start-up snapshot keeps node\'s copy of it out of RSS and goes on reporting events', async () => {
    const o = fileOpener(20);
    try {
      // the page image's mapping (beside the blob, or the image of the copy's layout in malloc's
      // heap under the cache folder); its Rss is what was read again since start-up (nothing, in a run)
      const cache = mkdtempSync(path.join(tmpdir(), 'ig-pages-'));
      const image = (igPid: number) =>
        smapsOf(igPid).filter((m) => /\/dist\/cli\.snapshot\/ig\.blob\.pages$|\/snapshot-pages\/[0-9a-f]{16}-\d+$/.test(m.split('\n')[0]));
      const r = await idleRun(o.pid, o.file, { ...process.env, IG_CACHE_DIR: cache }, { fromSnapshot: true, look: image });
      rmSync(cache, { recursive: true, force: true });
      expect(r.looked!.length, 'the page image is mapped over the copy').toBe(1);
      const kb = (k: string) => kbOf(r.looked![0]!, k);
      expect(kb('Size')).toBeGreaterThan(1024);
      expect(kb('Rss'), 'kB resident of the page image').toBeLessThan(kb('Size') / 4);
      expect(r.eventsAfter).toBeGreaterThan(5);
    } finally {
      o.stop();
    }
  }, 60_000);

  it("bin/ig has V8's heap pages of ig run faulted in whole as V8 commits them (native/launcher/heap-arena.c), unless the user preloads something", async () => {
    const o = fileOpener(20);
    try {
      // V8's heap pages in the arena: anonymous mappings advised MADV_DONTFORK (as V8 does) and
      // MADV_NOHUGEPAGE (the arena); the writable ones are what V8 committed
      const heap = (igPid: number) => {
        const arena = smapsOf(igPid).filter((m) => /\nVmFlags:.* nh\b/.test(m) && /\nVmFlags:.* dc\b/.test(m));
        const committed = arena.filter((m) => / rw-p /.test(m.split('\n')[0]!));
        const sum = (ms: string[], k: string) => ms.reduce((n, m) => n + kbOf(m, k), 0);
        return { reserved: sum(arena, 'Size'), committed: sum(committed, 'Size'), resident: sum(committed, 'Rss'), environ: readFileSync(`/proc/${igPid}/environ`, 'utf8') };
      };
      const withArena = await idleRun(o.pid, o.file, process.env, { fromSnapshot: true, look: heap });
      const h = withArena.looked!;
      expect(h.environ).toMatch(/(^|\0)LD_PRELOAD=\/\S*\/native\/build\/ig-heap-arena\.so\0/);
      expect(h.reserved, 'kB of address space reserved for the heap').toBeGreaterThanOrEqual(1 << 20);
      expect(h.committed, 'kB of heap committed there').toBeGreaterThan(4096);
      // every committed page was faulted in at its commit; faulted 4 KiB at a time, as V8 writes them, ~1.5 MB
      // of ~10.5 stay untouched by then (the young generation's other half among them); V8 may give a little back.
      // MADV_POPULATE_WRITE came with Linux 5.14: before it the library leaves pages to fault in as before.
      const [major, minor] = release().split('.').map(Number);
      if (major! > 5 || (major === 5 && minor! >= 14)) {
        expect(h.resident, 'kB of the committed heap resident').toBeGreaterThanOrEqual(h.committed - 512);
      }
      expect(withArena.eventsAfter).toBeGreaterThan(5);
      // the user's LD_PRELOAD (here empty) is theirs: no arena
      const without = await idleRun(o.pid, o.file, { ...process.env, LD_PRELOAD: '' }, { fromSnapshot: true, look: heap });
      expect(without.looked!.reserved).toBe(0);
      expect(without.eventsAfter).toBeGreaterThan(5);
    } finally {
      o.stop();
    }
  }, 60_000);

  it('V8 runs as before on the heap arena: a program that allocates, collects and frees pages (large objects too) computes the same', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ig-arena-'));
    const script = path.join(dir, 'churn.js');
    // young and old pages, large objects (their own reservations), pages freed by full collections
    writeFileSync(script, `
      const { createHash } = require('node:crypto');
      const h = createHash('sha256');
      let keep = [];
      for (let round = 0; round < 30; round++) {
        const big = new Array(200_000).fill(round);          // a large object
        for (let i = 0; i < 20_000; i++) keep.push({ round, i, s: 'v' + (i * round) });
        h.update(String(big.length + big[round]));
        if (round % 3 === 0) { h.update(JSON.stringify(keep.slice(-50))); keep = []; }
        if (round % 5 === 0) globalThis.gc();
      }
      h.update(String(keep.length));
      console.log(h.digest('hex'));
    `);
    try {
      const arena = path.join(repoRoot, 'native', 'build', 'ig-heap-arena.so');
      const run = (preload: string) => execFileSync(process.execPath, ['--expose-gc', script], { encoding: 'utf8', env: { ...process.env, LD_PRELOAD: preload } }).trim();
      const plain = run('');
      expect(plain).toMatch(/^[0-9a-f]{64}$/);
      expect(run(arena)).toBe(plain);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('the preload loads the addon while node starts, and node\'s own dlopen of it then works; a wrong path changes nothing', () => {
    const arena = path.join(repoRoot, 'native', 'build', 'ig-heap-arena.so');
    const addon = path.join(repoRoot, 'native', 'build', 'ig_native.node');
    // before any JS asked for it, the addon is mapped (the preload's thread had a whole node start to load it)
    const script = `
      const mapped = require('fs').readFileSync('/proc/self/maps', 'utf8').includes(${JSON.stringify(addon)});
      const m = { exports: {} };
      process.dlopen(m, ${JSON.stringify(addon)});
      console.log(JSON.stringify({ mapped, libbpf: m.exports.libbpfVersion() }));
    `;
    const run = (file: string) => JSON.parse(execFileSync(process.execPath, ['-e', `setTimeout(() => { ${script} }, 50)`], {
      encoding: 'utf8', env: { ...process.env, LD_PRELOAD: arena, IG_LAUNCHER_ADDON: file },
    }));
    const early = run(addon);
    expect(early.mapped).toBe(true);
    expect(early.libbpf).toMatch(/^v\d+\.\d+/);
    const wrong = run('/nonexistent/ig_native.node');
    expect(wrong).toEqual({ mapped: false, libbpf: early.libbpf });
  });

  it('the programs ig run starts (mount, tc) get the user\'s environment back: no launcher tunables or preload of its own', async () => {
    const { forgetLauncherTunables } = await import('../../src/runtime/resident-memory.js');
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { GLIBC_TUNABLES: 'glibc.malloc.arena_max=1', IG_LAUNCHER_TUNABLES: '1', LD_PRELOAD: '/x/ig-heap-arena.so', IG_LAUNCHER_PRELOAD: '1', IG_LAUNCHER_ADDON: '/x/ig_native.node' });
      forgetLauncherTunables();
      for (const k of ['GLIBC_TUNABLES', 'IG_LAUNCHER_TUNABLES', 'LD_PRELOAD', 'IG_LAUNCHER_PRELOAD', 'IG_LAUNCHER_ADDON']) expect(process.env[k], k).toBeUndefined();
      // the user's own settings (bin/ig added nothing) stay
      Object.assign(process.env, { GLIBC_TUNABLES: 'glibc.malloc.check=3', LD_PRELOAD: '/usr/lib/libmine.so' });
      forgetLauncherTunables();
      expect(process.env.GLIBC_TUNABLES).toBe('glibc.malloc.check=3');
      expect(process.env.LD_PRELOAD).toBe('/usr/lib/libmine.so');
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  it("keepYoungGenerationSmall keeps V8's young generation at its start size while objects survive (it grows without)", () => {
    // What `ig run` calls as it starts: V8 must still read the growth factor after start-up.
    const dir = mkdtempSync(path.join(tmpdir(), 'ig-young-'));
    const script = path.join(dir, 'young.ts');
    writeFileSync(script, `
      import { getHeapSpaceStatistics } from 'node:v8';
      import { keepYoungGenerationSmall } from ${JSON.stringify(path.join(repoRoot, 'src/runtime/resident-memory.ts'))};
      if (process.argv.includes('small')) keepYoungGenerationSmall();
      const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;
      const start = newSpace();
      let most = start;
      const kept: object[] = [];
      for (let i = 0; i < 400_000; i++) {
        kept.push({ i, s: 'x' + i }); // every object survives: the case that makes V8 grow
        if (i % 1000 === 0) most = Math.max(most, newSpace());
      }
      console.log(JSON.stringify({ start, most, kept: kept.length }));
    `);
    try {
      const run = (arg: string) => JSON.parse(execFileSync(path.join(repoRoot, 'node_modules/.bin/vite-node'), [script, arg], { encoding: 'utf8' }).trim().split('\n').pop()!);
      const grown = run('default');
      const small = run('small');
      expect(grown.most, 'without it V8 grows the young generation').toBeGreaterThan(grown.start);
      expect(small.most).toBe(small.start);
      expect(small.kept).toBe(400_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
