// The local store under bad luck: locks left behind, a full disk, a killed pull, a prune racing a
// pull, a blob corrupted in place, a damaged index.json, a store path under /proc. Each ends in a
// clear error or in recovery, never in a hang, a busy loop or a half-written store.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { collect, runIg, spawnIg } from '../helpers/ig.js';
import { FakeRegistry, serveHandMade, sha } from '../helpers/fake-registry.js';
import { waitFor } from '../helpers/kernel.js';
import { Store, defaultStorePath } from '../../src/oci/store.js';
import { getGadgetImage } from '../../src/oci/image.js';

let tmp: string;
let reg: FakeRegistry;
let store: string;
const S = () => ['--oci-store', store, '--insecure-registries', reg.host];
const partialFiles = () => readdirSync(path.join(store, '.ingest')).filter((n) => !n.startsWith('pin.'));
const lockFile = () => path.join(store, 'index.json.lock');

function expectClean(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^error: /);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at |bug in ig/);
}

/** utime + stime of a process, in clock ticks. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function startTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ig-store-faults-'));
  reg = await new FakeRegistry().start();
  serveHandMade(reg, 'v1', { note: 'base' });
});
afterAll(async () => {
  await reg.close();
  rmSync(tmp, { recursive: true, force: true });
});
beforeEach(async () => {
  reg.hook = undefined;
  store = mkdtempSync(path.join(tmp, 'store-'));
  const r = await runIg(['image', 'pull', `${reg.host}/x/base:v1`, ...S()]);
  expect(r.code, r.stderr).toBe(0);
});

describe('locks', () => {
  it('an empty lock file left by a crash is taken over at once when old, without spinning', async () => {
    writeFileSync(lockFile(), '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockFile(), old, old);
    const t0 = Date.now();
    const r = await runIg(['image', 'tag', `${reg.host}/x/base:v1`, 'copy:v1', '--oci-store', store], { timeoutMs: 20_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(existsSync(lockFile())).toBe(false);
  });

  it('a lock of a process that exited is taken over at once', async () => {
    const gone = spawn('true');
    await new Promise((r) => gone.on('exit', r));
    writeFileSync(lockFile(), JSON.stringify({ pid: gone.pid, start: 1, host: os.hostname(), time: Date.now() }));
    const r = await runIg(['image', 'tag', `${reg.host}/x/base:v1`, 'copy:v1', '--oci-store', store], { timeoutMs: 20_000 });
    expect(r.code, r.stderr).toBe(0);
  });

  it('a lock held by a live process is waited for without burning CPU, then taken when it exits', async () => {
    const holder = spawn('sleep', ['60']);
    writeFileSync(lockFile(), JSON.stringify({ pid: holder.pid, start: startTicks(holder.pid!), host: os.hostname(), time: Date.now() }));
    const child = spawnIg(['image', 'tag', `${reg.host}/x/base:v1`, 'copy:v1', '--oci-store', store]);
    const done = collect(child, 30_000);
    await new Promise((r) => setTimeout(r, 1500)); // started, and waiting
    const before = cpuTicks(child.pid!);
    await new Promise((r) => setTimeout(r, 1500));
    expect(child.exitCode).toBeNull(); // still waiting
    expect(cpuTicks(child.pid!) - before).toBeLessThan(30); // < 0.3 s of CPU in 1.5 s: no busy loop
    holder.kill('SIGKILL');
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
  });

  it('a lock whose pid now belongs to another process (reused) is stale', async () => {
    const other = spawn('sleep', ['60']);
    try {
      writeFileSync(lockFile(), JSON.stringify({ pid: other.pid, start: startTicks(other.pid!) - 1000, host: os.hostname(), time: Date.now() - 60_000 }));
      const r = await runIg(['image', 'tag', `${reg.host}/x/base:v1`, 'copy:v1', '--oci-store', store], { timeoutMs: 20_000 });
      expect(r.code, r.stderr).toBe(0);
    } finally {
      other.kill('SIGKILL');
    }
  });
});

describe('a full disk', () => {
  let mnt: string;
  beforeAll(() => {
    mnt = path.join(tmp, 'tmpfs');
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
  });
  afterAll(() => {
    execFileSync('umount', ['-l', mnt]);
  });

  it('ENOSPC while pulling: a clear error, no partial file, the store still works', async () => {
    store = path.join(mnt, 'store');
    expect((await runIg(['image', 'pull', `${reg.host}/x/base:v1`, ...S()])).code).toBe(0);
    serveHandMade(reg, 'big', { ebpf: Buffer.alloc(3 << 20, 1) });
    const r = await runIg(['image', 'pull', `${reg.host}/x/base:big`, ...S()]);
    expectClean(r, /^error: no space left on the disk of the local store .* while writing blob sha256:[0-9a-f]{64} of /m);
    expect(r.stderr).toMatch(/^hint: free some space/m);
    expect(partialFiles()).toEqual([]);
    for (const n of readdirSync(path.join(store, 'blobs', 'sha256'))) {
      expect(sha(readFileSync(path.join(store, 'blobs', 'sha256', n)))).toBe(`sha256:${n}`);
    }
    const ls = await runIg(['image', 'list', '-o', 'json', ...S()]);
    expect(JSON.parse(ls.stdout).map((x: { tag: string }) => x.tag)).toEqual(['v1']);
  });

  it('ENOSPC while rewriting index.json: the old index stays whole', async () => {
    store = path.join(mnt, 'store');
    const before = readFileSync(path.join(store, 'index.json'), 'utf8');
    const filler = path.join(mnt, 'filler');
    const page = path.join(mnt, 'page');
    try {
      // Fill the disk but for one page: enough for the lock, not for the new index.json beside the old.
      writeFileSync(page, Buffer.alloc(4096));
      execFileSync('sh', ['-c', `dd if=/dev/zero of=${filler} bs=4k 2>/dev/null || true`]);
      rmSync(page);
      const r = await runIg(['image', 'tag', `${reg.host}/x/base:v1`, `${'long'.repeat(40)}:v1`, ...S()]);
      expectClean(r, /no space left on the disk of the local store .* while writing index\.json/);
      expect(readFileSync(path.join(store, 'index.json'), 'utf8')).toBe(before);
      expect(partialFiles()).toEqual([]);
      expect(existsSync(path.join(store, 'index.json.lock'))).toBe(false);
    } finally {
      rmSync(filler, { force: true });
    }
  });
});

describe('a full disk under an export', () => {
  it('ENOSPC while writing the tar: a clear error and no partial file', async () => {
    const mnt = path.join(tmp, 'tmpfs-export');
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
    try {
      serveHandMade(reg, 'bigexport', { ebpf: Buffer.alloc(2 << 20, 3) });
      expect((await runIg(['image', 'pull', `${reg.host}/x/base:bigexport`, ...S()])).code).toBe(0);
      const r = await runIg(['image', 'export', `${reg.host}/x/base:bigexport`, path.join(mnt, 'out.tar'), '--oci-store', store]);
      expectClean(r, /^error: cannot write .*out\.tar: .*no space left on device/im);
      expect(readdirSync(mnt)).toEqual([]);
    } finally {
      execFileSync('umount', ['-l', mnt]);
    }
  });
});

describe('interrupted and concurrent pulls', () => {
  /** Serve image `tag` whose eBPF layer stops halfway until `release()` is called. */
  function stallingImage(tag: string) {
    const img = serveHandMade(reg, tag, { ebpf: Buffer.alloc(1 << 20, tag.length), note: tag });
    const layer = sha(img.ebpf);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let reached!: () => void;
    const stalled = new Promise<void>((r) => (reached = r));
    reg.hook = (req, res, fake) => {
      if (!req.url?.endsWith(layer)) return false;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(img.ebpf.length) });
      fake.write(res, img.ebpf.subarray(0, 512 << 10));
      reached();
      void released.then(() => {
        fake.write(res, img.ebpf.subarray(512 << 10));
        res.end();
      });
      return true;
    };
    return { stalled, release };
  }

  /** Start pulling `tag`, wait for half its layer on disk, SIGKILL the pull. */
  async function killMidPull(tag: string): Promise<void> {
    const { stalled } = stallingImage(tag);
    const child = spawnIg(['image', 'pull', `${reg.host}/x/base:${tag}`, ...S()]);
    const done = collect(child, 30_000);
    await stalled;
    // all the registry sent so far on disk (a loaded machine writes it a while after the first bytes)
    const onDisk = () => partialFiles().reduce((n, f) => n + statSync(path.join(store, '.ingest', f)).size, 0);
    await waitFor(() => partialFiles().length === 1 && onDisk() >= 512 << 10, 10_000, 'the partial download');
    child.kill('SIGKILL');
    await done;
  }

  it('a pull killed with SIGKILL leaves a partial download that prune removes and counts', async () => {
    await killMidPull('killed');
    const r = await runIg(['image', 'prune', '--oci-store', store]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Removed \d+ unreferenced blobs? and 1 partial download \((\d+) bytes\)/);
    expect(Number(r.stdout.match(/\((\d+) bytes\)/)![1])).toBeGreaterThanOrEqual(512 << 10);
    expect(partialFiles()).toEqual([]);
  });

  it('the next pull removes a killed pull\'s partial download', async () => {
    await killMidPull('killed2');
    reg.hook = undefined;
    const r = await runIg(['image', 'pull', `${reg.host}/x/base:killed2`, ...S()]);
    expect(r.code, r.stderr).toBe(0);
    expect(partialFiles()).toEqual([]);
  });

  it('image prune during a pull keeps what the pull needs; both succeed', async () => {
    const { stalled, release } = stallingImage('racing');
    const child = spawnIg(['image', 'pull', `${reg.host}/x/base:racing`, ...S()]);
    const done = collect(child, 30_000);
    await stalled; // the config blob is in blobs/, untagged
    const prune = await runIg(['image', 'prune', '--oci-store', store]);
    expect(prune.code, prune.stderr).toBe(0);
    release();
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    const insp = await runIg(['image', 'inspect', `${reg.host}/x/base:racing`, '-o', 'json', '--oci-store', store]);
    expect(insp.code, insp.stderr).toBe(0);
    // and a prune after it removes nothing of it
    expect((await runIg(['image', 'prune', '--oci-store', store])).stdout).toMatch(/^Removed 0 unreferenced blobs/);
  });
});

describe('damage', () => {
  it('a blob corrupted in place is fetched again by a pull, though another tag shares it', async () => {
    expect((await runIg(['image', 'tag', `${reg.host}/x/base:v1`, 'other:v1', '--oci-store', store])).code).toBe(0);
    const index = JSON.parse(readFileSync(path.join(store, 'index.json'), 'utf8'));
    const top = index.manifests[0].digest.slice(7);
    const manifestDigest = JSON.parse(readFileSync(path.join(store, 'blobs', 'sha256', top), 'utf8')).manifests[0].digest.slice(7);
    const layer = JSON.parse(readFileSync(path.join(store, 'blobs', 'sha256', manifestDigest), 'utf8')).layers[0].digest.slice(7);
    const file = path.join(store, 'blobs', 'sha256', layer);
    const bytes = readFileSync(file);
    bytes[3] ^= 0xff; // same size, other content
    writeFileSync(file, bytes);
    const broken = await runIg(['image', 'export', 'other:v1', path.join(tmp, 'x.tar'), '--oci-store', store]);
    expectClean(broken, /corrupt/);
    const r = await runIg(['image', 'pull', `${reg.host}/x/base:v1`, ...S()]);
    expect(r.code, r.stderr).toBe(0);
    expect(sha(readFileSync(file))).toBe(`sha256:${layer}`);
    expect((await runIg(['image', 'export', 'other:v1', path.join(tmp, 'x.tar'), '--oci-store', store])).code).toBe(0);
  });

  it('`ig run --pull always` repairs a corrupted eBPF layer shared by two tags', async () => {
    // Serve the built trace_open (scripts/setup.sh --test put it in the default store).
    const src = await Store.open(defaultStorePath());
    const top = (await src.resolveTag('ghcr.io/inspektor-gadget/gadget/trace_open:latest'))!;
    for (const d of await src.reachable(top)) reg.put(await src.readBlob(d));
    reg.tags.set('real', await src.readBlob(top.digest));
    const ref = `${reg.host}/x/trace_open:real`;
    expect((await runIg(['image', 'pull', ref, ...S()])).code).toBe(0);
    expect((await runIg(['image', 'tag', ref, 'mine:v1', '--oci-store', store])).code).toBe(0);
    const img = await getGadgetImage(ref, 'never', { store });
    const layer = (img.manifest as { layers: { digest: string }[] }).layers[0]!.digest;
    const file = path.join(store, 'blobs', 'sha256', layer.slice(7));
    const bytes = readFileSync(file);
    bytes[bytes.length - 10] ^= 0xff;
    writeFileSync(file, bytes);
    const broken = await runIg(['run', 'mine:v1', '--pull', 'never', '-t', '1', '--oci-store', store]);
    expectClean(broken, /blob sha256:[0-9a-f]{64} in the local store .* is corrupt/);
    expect(broken.stderr).toMatch(/--pull always/);
    const r = await runIg(['run', ref, '--pull', 'always', '-o', 'json', '-t', '1', ...S()], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(sha(readFileSync(file))).toBe(layer);
  });

  it('index.json with a null entry: a store error naming it, not a TypeError', async () => {
    const file = path.join(store, 'index.json');
    const idx = JSON.parse(readFileSync(file, 'utf8'));
    idx.manifests.push(null);
    writeFileSync(file, JSON.stringify(idx));
    for (const args of [['image', 'list'], ['run', 'anything', '--pull', 'never']]) {
      const r = await runIg([...args, '--oci-store', store]);
      expectClean(r, /index\.json is not a valid OCI index: entry 2 is null/);
      expect(r.stderr).toMatch(/^hint: restore it from a backup/m);
    }
  });

  it('--oci-store under /proc is refused at once, also by ig run', async () => {
    for (const args of [['image', 'list'], ['run', 'trace_open']]) {
      const t0 = Date.now();
      const r = await runIg([...args, '--oci-store', '/proc/self'], { timeoutMs: 10_000 });
      expectClean(r, /cannot put the local store in \/proc\/self: it is a kernel file system/);
      expect(Date.now() - t0).toBeLessThan(3000);
    }
  });
});
