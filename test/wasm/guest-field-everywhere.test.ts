// A field a wasm guest adds (guests/tag.c: `tag`) is a field like any other: in -o json, in
// columns (with gadget.yaml's column annotations), in --fields, in -F filters, in --help, and
// in the daemon's stream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, jsonLines, runIg, spawnIg } from '../helpers/ig.js';
import { tempStore } from '../helpers/gadgets.js';
import { heldBpfIds, waitFor } from '../helpers/kernel.js';
import { pwdTimes, PWD_COMM, runWith } from '../helpers/run-with.js';
import { startDaemon } from '../helpers/wasm-daemon.js';
import { buildWasmGadget } from '../helpers/wasm.js';

const store = tempStore();
beforeAll(() => buildWasmGadget('tag', 'wasm_tag', store.env), 120_000);
afterAll(() => store.cleanup());

const run = (extra: string[], n = 3) => runWith(['run', 'wasm_tag', '-t', '2', '--comm', PWD_COMM, ...extra], store.env, () => pwdTimes(n));

describe('a field added by a wasm guest', () => {
  it('shows in -o json', async () => {
    const r = await run(['-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonLines(r.stdout).map((e) => e.tag)).toEqual(r.triggered.map((p) => `pid=${p} small=-5`));
  });

  it('shows in columns, 12 wide as gadget.yaml says, and in --fields', async () => {
    const r = await run(['--fields', 'pid,tag,comm']);
    expect(r.code, r.stderr).toBe(0);
    // a column 12 wide; off a terminal a longer value is shown whole, as any field's
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      '    PID TAG          COMM',
      ...r.triggered.map((p) => `${String(p).padStart(7)} pid=${p} small=-5 ${PWD_COMM}`),
    ]);
  });

  it('can be filtered on with -F', async () => {
    const all = await run(['-o', 'json', '-F', 'tag~small=-5$']);
    expect(jsonLines(all.stdout).map((e) => e.pid)).toEqual(all.triggered);
    const r = await runWith(['run', 'wasm_tag', '-o', 'json', '-t', '2', '--comm', PWD_COMM, '-F', 'tag~^pid=[0-9]*[02468] small'], store.env, () => pwdTimes(6));
    expect(r.code, r.stderr).toBe(0);
    const even = r.triggered.filter((p) => p % 2 === 0);
    expect(jsonLines(r.stdout).map((e) => e.pid)).toEqual(even);
    const none = await run(['-o', 'json', '-F', 'tag==nothing']);
    expect(none.stdout).toBe('');
  });

  it('is listed by --help', async () => {
    const r = await runIg(['run', 'wasm_tag', '--help'], { env: store.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\s+tag\s+string\s+added by the wasm module$/m);
  });

  it('reaches a client through the daemon\'s stream', async () => {
    const d = await startDaemon(store.env);
    try {
      const child = spawnIg(['run', 'wasm_tag', '--remote-address', d.address, '-o', 'json', '-t', '3', '--comm', PWD_COMM], { env: store.env });
      const done = collect(child);
      await waitFor(() => heldBpfIds(d.proc.pid!).links.length > 0, 15_000, 'the daemon to attach');
      const pids = pwdTimes(2);
      const r = await done;
      expect(r.code, r.stderr).toBe(0);
      expect(jsonLines(r.stdout).map((e) => [e.pid, e.tag])).toEqual(pids.map((p) => [p, `pid=${p} small=-5`]));
      // columns of a remote run, with the guest's field chosen
      const cols = spawnIg(['run', 'wasm_tag', '--remote-address', d.address, '-t', '3', '--comm', PWD_COMM, '--fields', 'tag,pid'], { env: store.env });
      const colsDone = collect(cols);
      await waitFor(() => heldBpfIds(d.proc.pid!).links.length > 0, 15_000, 'the daemon to attach');
      const [pid] = pwdTimes(1);
      const c = await colsDone;
      expect(c.stdout.trimEnd().split('\n')).toEqual(['TAG              PID', `pid=${pid} small=-5 ${String(pid).padStart(7)}`]);
    } finally {
      d.stop();
    }
  });
});
