// Snapshotters and toppers through the real CLI: the text iterator (iter_text, with its
// malformed records), the marker map iterator (mapiter_topper, drained every interval) and the
// map-name HASH topper (print_hash_topper, cumulative). Trigger: a copy of /bin/pwd named
// `igtpwd`, so other tests' getcwd(2) calls are told apart by comm.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runIg } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { runWith } from '../helpers/run-with.js';
import { getcwdTrigger } from '../helpers/getcwd.js';

const store = tempStore();
const env = store.env;
const work = mkdtempSync(path.join(tmpdir(), 'ig-tables-'));
const trigger = getcwdTrigger(work, 'igtpwd');
const COMM = trigger.comm;
const pwd = trigger.run;


/** `-o json` of a table gadget: one JSON array per line (per fetch / snapshot). */
function tables(stdout: string): Record<string, unknown>[][] {
  return stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>[]);
}

beforeAll(async () => {
  for (const g of ['iter_text', 'mapiter_topper', 'print_hash_topper']) await buildGadget(`test/gadgets/${g}`, g, env);
}, 120_000);
afterAll(() => {
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

describe('text snapshotter (iter_text)', () => {
  it('-o json: the two good records exactly, the malformed ones reported on stderr', async () => {
    const r = await runIg(['run', 'iter_text', '-o', 'json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(tables(r.stdout)).toEqual([[
      { name: 'line1\nline2', value: 'a=b=c', num: 42 },
      { name: 'plain', value: 'x', num: 7 },
    ]]);
    expect(r.stderr).toMatch(/^warning: .*truncated/m);
    expect(r.stderr).toMatch(/^warning: .*without "=".*noequals/m);
    expect(r.stderr).not.toMatch(/^error/m);
  });

  it('columns: a header, the newline in a value shown as a space, numbers typed (sortable)', async () => {
    const r = await runIg(['run', 'iter_text', '--sort', 'num'], { env });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.map((l) => l.trim().split(/\s+/))).toEqual([
      ['NAME', 'VALUE', 'NUM'],
      ['plain', 'x', '7'],
      ['line1', 'line2', 'a=b=c', '42'],
    ]);
  });

  it('-F on a learned field filters the snapshot', async () => {
    const r = await runIg(['run', 'iter_text', '-o', 'json', '-F', 'num>10'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(tables(r.stdout)).toEqual([[{ name: 'line1\nline2', value: 'a=b=c', num: 42 }]]);
  });
});

describe('toppers', () => {
  it('mapiter_topper --map-fetch-count 2 --map-fetch-interval 500ms: one row per call, drained each interval', async () => {
    const t0 = Date.now();
    const r = await runWith(
      ['run', 'mapiter_topper', '--map-fetch-count', '2', '--map-fetch-interval', '500ms', '-o', 'json'],
      env, () => pwd(3),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(15_000); // stops by itself after 2 fetches
    const t = tables(r.stdout);
    expect(t.length).toBe(2);
    const mine = t.flat().filter((row) => row.comm === COMM);
    // each call in exactly one interval (the map is emptied after each fetch)
    expect(mine.map((row) => row.pid).sort()).toEqual([...r.triggered].sort());
    for (const row of mine) {
      expect(row.calls).toBe(1);
      expect(row.bytes).toBe(4096); // GNU pwd's getcwd size argument
      expect(typeof row.mntns_id).toBe('number');
    }
  });

  it('mapiter_topper --sort -calls --max-entries 1: the busiest key first, one row per table', async () => {
    const r = await runWith(
      ['run', 'mapiter_topper', '--map-fetch-count', '1', '--map-fetch-interval', '800ms', '-o', 'json', '--sort', '-calls', '--max-entries', '1'],
      env, () => spawnSync('/usr/bin/python3', ['-c', 'import os\nfor _ in range(5000): os.getcwd()'], { stdio: 'ignore' }).pid!,
    );
    expect(r.code, r.stderr).toBe(0);
    const t = tables(r.stdout);
    expect(t.length).toBe(1);
    // python's 5,000 getcwd calls outnumber any other process's in 0.8 s (a compiler the suite runs
    // beside it made 29; 7 calls were once outnumbered)
    expect(t[0]).toEqual([expect.objectContaining({ pid: r.triggered, comm: 'python3' })]);
    expect(t[0]![0]!.calls as number).toBeGreaterThanOrEqual(5000);
  });

  it('print_hash_topper --map-fetch-count 2 --map-fetch-interval 500ms: a row per pwd with count 1', async () => {
    const r = await runWith(
      ['run', 'print_hash_topper', '--map-fetch-count', '2', '--map-fetch-interval', '500ms', '-o', 'json'],
      env, () => pwd(3),
    );
    expect(r.code, r.stderr).toBe(0);
    const t = tables(r.stdout);
    expect(t.length).toBe(2);
    // keys and values side by side
    const last = t[1]!.filter((row) => row.comm === COMM);
    expect(last.map((row) => row.pid).sort()).toEqual([...r.triggered].sort());
    for (const row of last) expect(Object.keys(row).sort()).toEqual(['comm', 'count', 'pid']);
    for (const row of last) expect(row.count).toBe(1);
  });
});
