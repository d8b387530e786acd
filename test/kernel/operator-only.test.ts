// Operator-only gadgets (an image of gadget.yaml alone, as IG's top_process and bpfstats): the
// datasources come from the operators gadget.yaml names. A process the test starts shows in the
// process table with its pid, parent and name; the programs of an `ig run` the test starts show
// in the eBPF statistics with their runs and the process holding them.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsonLines, runIg, spawnIg, collect } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { linkCount } from '../helpers/run-with.js';
import { waitFor } from '../helpers/kernel.js';

const store = tempStore();
const env = store.env;

beforeAll(async () => {
  for (const g of ['op_processes', 'op_bpfstats', 'conventions']) await buildGadget(`test/gadgets/${g}`, g, env);
}, 120_000);
afterAll(() => store.cleanup());

describe('operator-only gadgets', () => {
  it('process operator: a table of every process, first after first-interval, then every interval', async () => {
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const r = await runIg(['run', 'op_processes', '-o', 'json', '-t', '1.6'], { env });
      expect(r.code, r.stderr).toBe(0);
      const tables = jsonLines(r.stdout) as unknown as Record<string, unknown>[][];
      // 250 ms, then 1 s later: two tables in 1.6 s
      expect(tables).toHaveLength(2);
      for (const t of tables) {
        const mine = t.filter((p) => p.pid === sleeper.pid);
        expect(mine.map((p) => [p.comm, p.ppid, p.state, p.threadCount])).toEqual([['sleep', process.pid, 'S', 1]]);
        expect(mine[0]!.memoryRSS as number).toBeGreaterThan(0);
      }
      // gadget.yaml's columns.alias names the column
      const cols = await runIg(['run', 'op_processes', '-t', '0.5'], { env });
      expect(cols.stdout.split('\n')[0]).toMatch(/\bCOMMAND\b/);
    } finally {
      sleeper.kill();
    }
  });

  it('ebpf statistics: the programs another run holds, with their run counts and holder', async () => {
    const other = spawnIg(['run', 'conventions', '-t', '8'], { env });
    const otherDone = collect(other, 30_000);
    try {
      await waitFor(() => linkCount(other.pid!) >= 2, 20_000, 'the other run to attach');
      const r = await runIg(['run', 'op_bpfstats', '-o', 'json', '-t', '2.5'], { env });
      expect(r.code, r.stderr).toBe(0);
      const tables = jsonLines(r.stdout) as unknown as Record<string, unknown>[][];
      expect(tables.length).toBeGreaterThanOrEqual(2);
      const last = tables[tables.length - 1]!;
      const prog = last.find((p) => p.progName === 'on_sys_enter' && String(p.pids).split(',').includes(String(other.pid)))!;
      expect(prog).toBeDefined();
      expect(prog.progType).toBe('tracing');
      expect(prog.comms).toBe('node');
      // tp_btf/sys_enter runs on every syscall of the machine: it ran during the interval
      expect(prog.runcount as number).toBeGreaterThan(0);
      expect(last.find((p) => p.progName === 'by_yaml')).toBeDefined(); // loaded, not attached: still a program
    } finally {
      other.kill('SIGINT');
      await otherDone;
    }
  });

  it('an image of gadget.yaml alone naming no operator ig has is refused, naming what it names; a bad interval is a usage error', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ig-oponly-'));
    try {
      writeFileSync(path.join(dir, 'gadget.yaml'), 'name: nothing\noperator:\n  gpu:\n    emitstats: true\n');
      await buildGadget(dir, 'op_nothing', env);
      const none = await runIg(['run', 'op_nothing', '-t', '1'], { env });
      expect(none.code).not.toBe(0);
      expect(none.stderr).toMatch(/the image has no eBPF program and its gadget.yaml names no operator ig has \(it names gpu\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const bad = await runIg(['run', 'op_processes', '--interval', 'soon', '-t', '1'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--interval: "soon" is not a duration/);
  });
});
