// Headless gadget instances (issue 14): `ig run --detach` in a daemon, `ig list`, `ig attach`,
// `ig delete`; they outlive their client and, persisted under --state-dir, the daemon itself.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { collect, jsonLines, runIg, spawnIg } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { heldBpfIds, waitFor } from '../helpers/kernel.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { fileOpener, type FileOpener } from '../helpers/opener.js';

const store = tempStore();
const work = mkdtempSync(path.join(tmpdir(), 'ig-instances-'));
chmodSync(work, 0o755);
const started: TestDaemon[] = [];
const children: ChildProcess[] = [];
const NOBODY = { uid: 65534, gid: 65534 };

async function daemon(args: string[]): Promise<TestDaemon> {
  const d = await startTestDaemon(args, { env: store.env });
  started.push(d);
  return d;
}

/** A process that opens a file every 50 ms: the events an instance selects with --pid. */
function opener(): FileOpener {
  const o = fileOpener(50, work);
  children.push(o.child);
  return o;
}

/**
 * `ig attach` for `ms` (or, with `until`, until its output holds that text, at most 15 s: a loaded
 * machine starts ig slowly), then Ctrl-C (as a user would leave it).
 */
async function attachFor(ms: number, args: string[], opts: object = {}, until?: string) {
  const p = spawnIg(['attach', ...args], { env: store.env, ...opts });
  let out = '';
  p.stdout!.on('data', (d) => (out += d));
  const r = collect(p, 30_000);
  if (until) await waitFor(() => out.includes(until), 15_000, `ig attach to show ${until}`).catch(() => undefined);
  else await new Promise((res) => setTimeout(res, ms));
  p.kill('SIGINT');
  return r;
}

const list = async (address: string, opts: object = {}) => {
  const r = await runIg(['list', '--remote-address', address, '-o', 'json'], { env: store.env, ...opts });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { id: string; name: string; tags: string[]; image: string; status: string; message: string }[];
};

beforeAll(() => buildGadget('gadgets/trace_open', 'trace_open', store.env), 120_000);
afterEach(async () => {
  for (const c of children.splice(0)) c.kill();
  await Promise.all(started.splice(0).map((d) => d.stop()));
});
afterAll(() => {
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

describe('headless gadget instances', () => {
  it('run on in the daemon after their client exits; list, attach (replaying a bounded buffer, or from now) and delete', async () => {
    const d = await daemon(['-H', `unix://${work}/a.sock`, '-G', String(NOBODY.gid), '--state-dir', `${work}/state-a`, '--events-buffer-length', '10']);
    const o = opener();
    const created = await runIg(['run', 'trace_open', '--detach', '--name', 'opens', '--tags', 'team-a,debug', '--remote-address', d.address, '--pid', String(o.pid)], { env: store.env });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^[0-9a-f]{32}\n$/);
    const id = created.stdout.trim();

    const cols = await runIg(['list', '--remote-address', d.address], { env: store.env });
    expect(cols.stdout).toMatch(new RegExp(`^ID\\s+NAME\\s+TAGS\\s+GADGET\\s+STATUS\\n${id.slice(0, 12)}\\s+opens\\s+team-a,debug\\s+trace_open\\s+running\\n$`));
    // the client is gone; the instance holds its programs in the daemon and keeps its events
    expect(heldBpfIds(d.proc.pid!).progs.length).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 1500)); // ~30 events: more than the buffer keeps

    const now = Date.now();
    const live = await attachFor(2500, ['opens', '--remote-address', d.address, '--no-replay', '--fields', 'pid,fname']);
    expect(live.code, live.stderr).toBe(0);
    expect(live.stdout.split('\n')[0]).toMatch(/^\s*PID\s+FNAME\s*$/);
    expect(live.stdout).toMatch(new RegExp(`^\\s*${o.pid}\\s+${work}/`, 'm'));
    const liveJson = jsonLines((await attachFor(2500, ['opens', '--remote-address', d.address, '--no-replay', '-o', 'json'])).stdout) as { pid: number; fname: string; timestamp: string }[];
    expect(liveJson.length).toBeGreaterThan(0);
    expect(liveJson.every((e) => e.pid === o.pid && e.fname === o.file && Date.parse(e.timestamp) > now - 100)).toBe(true);

    // no new events from now on: what an attach shows is the buffer, bounded to the last 10 events
    o.stop();
    await new Promise((r) => setTimeout(r, 500));
    const replay = await attachFor(2500, ['opens', '--remote-address', d.address, '-o', 'json']);
    expect(replay.code, replay.stderr).toBe(0);
    const old = jsonLines(replay.stdout) as { pid: number; fname: string }[];
    expect(old.length).toBeGreaterThan(0);
    expect(old.length).toBeLessThanOrEqual(10 + 5); // the buffer, plus at most the batch that crossed its bound
    expect(old.every((e) => e.pid === o.pid && e.fname === o.file)).toBe(true);
    const none = await attachFor(2000, ['opens', '--remote-address', d.address, '-o', 'json', '--no-replay']);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toBe('');

    // another user neither sees nor deletes it
    expect(await list(d.address, NOBODY)).toEqual([]);
    const foreign = await collect(spawnIg(['delete', 'opens', '--remote-address', d.address], { env: store.env, ...NOBODY }), 30_000);
    expect(foreign.code).not.toBe(0);
    expect(foreign.stderr).toMatch(/^error: no gadget instance "opens" on this daemon/m);

    const del = await runIg(['delete', 'opens', '--remote-address', d.address], { env: store.env });
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout).toBe(`${id}\n`);
    expect(await list(d.address)).toEqual([]);
    await waitFor(() => heldBpfIds(d.proc.pid!).progs.length === 0, 10_000, 'the instance\'s programs to be released');
    expect(readdirSync(`${work}/state-a/instances`)).toEqual([]);
    const gone = await runIg(['attach', 'opens', '--remote-address', d.address], { env: store.env });
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/^error: no gadget instance "opens" on this daemon/m);
  }, 90_000);

  it('are started again when the daemon restarts with the same state directory', async () => {
    const state = `${work}/state-b`;
    const sock = `unix://${work}/b.sock`;
    const first = await daemon(['-H', sock, '--state-dir', state]);
    const o = opener();
    const c = await runIg(['run', 'trace_open', '--detach', '--name', 'keep', '--tags', 'ops', '--remote-address', first.address, '--pid', String(o.pid)], { env: store.env });
    expect(c.code, c.stderr).toBe(0);
    expect(await first.stop()).toBe(0);

    const second = await daemon(['-H', sock, '--state-dir', state]);
    const again = await waitFor(async () => {
      const l = await list(second.address);
      return l.length === 1 && l[0]!.status === 'running' ? l : undefined;
    }, 20_000, 'the instance to run again');
    expect(again[0]).toMatchObject({ id: c.stdout.trim(), name: 'keep', tags: ['ops'], image: 'trace_open' });
    const a = await attachFor(1500, ['keep', '--remote-address', second.address, '-o', 'json', '--no-replay'], {}, o.file);
    expect((jsonLines(a.stdout) as { fname: string }[]).some((e) => e.fname === o.file)).toBe(true);
    expect((await runIg(['delete', 'keep', '--remote-address', second.address], { env: store.env })).code).toBe(0);
  }, 90_000);

  it('refuse what cannot run, keeping nothing: a duplicate name, a missing image, --detach without a daemon', async () => {
    const d = await daemon(['-H', `unix://${work}/c.sock`, '--state-dir', `${work}/state-c`]);
    expect((await runIg(['run', 'trace_open', '--detach', '--name', 'one', '--remote-address', d.address], { env: store.env })).code).toBe(0);
    const dup = await runIg(['run', 'trace_open', '--detach', '--name', 'one', '--remote-address', d.address], { env: store.env });
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toMatch(/^error: an instance named "one" already exists on this daemon/m);
    const missing = await runIg(['run', 'trace_open', '--detach', '--name', 'two', '--remote-address', d.address, '--pull', 'never', '--fields', 'nosuchfield'], { env: store.env });
    expect(missing.code).not.toBe(0);
    expect((await list(d.address)).map((i) => i.name)).toEqual(['one']);
    expect(readdirSync(`${work}/state-c/instances`)).toHaveLength(1);
    const local = await runIg(['run', 'trace_open', '--detach'], { env: store.env });
    expect(local.code).toBe(2);
    expect(local.stderr).toMatch(/^error: --detach creates a headless instance in an ig daemon: name it with --remote-address/m);
    expect((await runIg(['delete', 'one', '--remote-address', d.address], { env: store.env })).code).toBe(0);
  }, 60_000);
});
