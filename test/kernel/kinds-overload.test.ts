// Lost events are never silent, and the count is exact: test/gadgets/overload sends `burst`
// numbered records per getcwd(2) of one process into a 4 KiB ring buffer; the trigger makes
// exactly K calls, so emitted = K * burst and received + lost must equal it, both in the JSON
// output (`{"lost":N,"lostTotal":T}` records) and on stderr (`warning: lost N events`).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnIg, runIg } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { waitFor } from '../helpers/kernel.js';
import { linkCount } from '../helpers/run-with.js';

const store = tempStore();
const env = store.env;
const work = mkdtempSync(path.join(tmpdir(), 'ig-overload-'));
const TRIGGER = path.join(work, 'getcwd_k');

beforeAll(async () => {
  // waits for one byte on stdin, then makes K getcwd(2) calls `gap` µs apart
  writeFileSync(`${TRIGGER}.c`, `
    #include <unistd.h>
    #include <stdlib.h>
    #include <sys/syscall.h>
    int main(int argc, char **argv) {
      char b[1], buf[4096];
      int k = atoi(argv[1]), gap = atoi(argv[2]);
      if (read(0, b, 1) != 1) return 1;
      for (int i = 0; i < k; i++) { syscall(SYS_getcwd, buf, sizeof buf); if (gap) usleep(gap); }
      return 0;
    }`);
  execFileSync('gcc', ['-O1', '-o', TRIGGER, `${TRIGGER}.c`]);
  await buildGadget('test/gadgets/overload', 'overload', env);
}, 120_000);
afterAll(() => {
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

interface Outcome { events: Array<{ pid: number; call: number; seq: number }>; lostRecords: Array<{ lost: number; lostTotal: number }>; stderr: string; code: number | null }

/**
 * Run the overload gadget filtered on the trigger's pid, make K calls; with `stallReader`, ig's
 * stdout is not read until the trigger is done, so ig (and then its consumer thread) blocks and
 * the kernel buffer overflows whatever its size.
 */
async function overload(k: number, gapUs: number, burst: number, extra: string[], stallReader: boolean): Promise<Outcome> {
  const trig = spawn(TRIGGER, [String(k), String(gapUs)], { stdio: ['pipe', 'ignore', 'ignore'] });
  const trigDone = new Promise((r) => trig.on('exit', r));
  // the gadget's own 4 KiB (ig's default is 1 MiB per CPU): small enough that bursts overflow it
  // -t counts from attach: a stalled reader's run gets more, so a loaded machine still triggers before it ends
  const ig = spawnIg(['run', 'overload', '--pid', String(trig.pid), '--burst', String(burst), '-o', 'json', '-t', stallReader ? '8' : '4', '--buffer-size', '4k', ...extra], { env });
  let stdout = '';
  let stderr = '';
  ig.stderr!.on('data', (d) => (stderr += d));
  const read = () => ig.stdout!.on('data', (d) => (stdout += d));
  if (!stallReader) read();
  const closed = new Promise<number | null>((r) => ig.on('close', (c) => r(c)));
  let exited = false;
  ig.on('exit', () => (exited = true));
  try {
    await waitFor(() => exited || linkCount(ig.pid!) >= 1, 20_000, 'ig to attach');
    trig.stdin!.end('x');
    await trigDone;
  } finally {
    if (stallReader) read();
    trig.kill();
  }
  const code = await closed;
  const lines = stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  return {
    events: lines.filter((l) => !('lost' in l)),
    lostRecords: lines.filter((l) => 'lost' in l),
    stderr,
    code,
  };
}

function checkExact(o: Outcome, emitted: number, trigPid?: number) {
  expect(o.code, o.stderr).toBe(0);
  const lostJson = o.lostRecords.reduce((s, l) => s + l.lost, 0);
  expect(lostJson, `a loss must be reported (${o.events.length} of ${emitted} shown)\n${o.stderr}`).toBeGreaterThan(0);
  expect(o.events.length, `something must get through (${lostJson} lost in ${o.lostRecords.length} lost records)\n${o.stderr}`).toBeGreaterThan(0);
  // the identity a user relies on: what was shown + what was reported lost = what was sent
  expect(o.events.length + lostJson).toBe(emitted);
  // lostTotal is the running sum
  expect(o.lostRecords.at(-1)!.lostTotal).toBe(lostJson);
  // stderr: the periodic warnings add up to the same total, and the total is printed at the end
  const warned = [...o.stderr.matchAll(/^warning: lost (\d+) events?$/gm)].reduce((s, m) => s + Number(m[1]), 0);
  expect(warned).toBe(lostJson);
  expect(o.stderr).toMatch(new RegExp(`^warning: lost ${lostJson} events in total$`, 'm'));
  // no record duplicated or invented
  const keys = new Set(o.events.map((e) => `${e.call}/${e.seq}`));
  expect(keys.size).toBe(o.events.length);
  if (trigPid !== undefined) expect(o.events.every((e) => e.pid === trigPid)).toBe(true);
}

describe('lost events are counted exactly', () => {
  it('ring buffer (4 KiB): 20 calls x 200 records', async () => {
    const o = await overload(20, 20_000, 200, [], false);
    checkExact(o, 20 * 200);
    // about 56 records of 72 bytes fit per burst: most of each burst is lost
    expect(o.events.length).toBeLessThan(20 * 200 / 2);
    const calls = new Set(o.events.map((e) => e.call));
    expect([...calls].every((c) => c >= 1 && c <= 20)).toBe(true);
    expect(o.events.every((e) => e.seq >= 0 && e.seq < 200)).toBe(true);
  });

  // more than ig holds while its reader stalls: its consumer's 8 MiB of batches, the pipe or socket, and,
  // should stdout turn out non-blocking, the 8 MiB its output stream keeps (1000 calls, ~20 MB of
  // records, fitted in that once in a loaded suite run: 3000 calls leave no such margin)
  it('perf buffer (--force-perf-buffer) with a stalled reader: 3000 calls x 256 records', async () => {
    // Seen once in ~10 suite runs with the offline group beside it: every record arrived, none
    // lost (the count was exact, 256000 of 256000). The loss is this case's subject, so a run the
    // kernel dropped nothing in is made again (at most twice), its count checked each time.
    let o = await overload(3000, 0, 256, ['--force-perf-buffer'], true);
    for (let again = 0; again < 2 && o.lostRecords.length === 0; again++) {
      expect(o.events.length, o.stderr).toBe(3000 * 256);
      o = await overload(3000, 0, 256, ['--force-perf-buffer'], true);
    }
    checkExact(o, 3000 * 256);
  });

  // The consumer is open before the first program runs: a perf buffer's per-CPU slots are filled
  // in by its reader, and a record sent into an empty slot is lost. A process already calling
  // getcwd(2) every 50 µs when ig starts must lose nothing at a rate any reader keeps up with.
  it('perf buffer: nothing is lost to a reader that starts after attach', async () => {
    const trig = spawn(TRIGGER, ['400000', '50'], { stdio: ['pipe', 'ignore', 'ignore'] });
    trig.stdin!.end('x');
    try {
      const r = await runIg(['run', 'overload', '--pid', String(trig.pid), '--burst', '1', '--force-perf-buffer', '-o', 'json', '-t', '1'], { env });
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
      expect(lines.length, 'events while the trigger runs').toBeGreaterThan(100);
      expect(lines.filter((l) => 'lost' in l), r.stderr).toEqual([]);
      expect(r.stderr).not.toMatch(/lost/);
    } finally {
      trig.kill();
    }
  });

  it('no loss, no lost record: a burst that fits', async () => {
    const o = await overload(5, 20_000, 20, [], false);
    expect(o.code, o.stderr).toBe(0);
    expect(o.events.length).toBe(100);
    expect(o.lostRecords).toEqual([]);
    expect(o.stderr).not.toMatch(/lost/);
  });
});
