// A bad guest never takes ig down: each misbehaviour (guests/bad*.c) is one clear error naming
// the module and the call, the run stopped (exit 1) or, for a bad argument, the call refused and
// the run going on; on a daemon, which outlives the run, nothing the run loaded stays behind and
// the next run works.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, jsonLines, runIg, spawnIg } from '../helpers/ig.js';
import { tempStore } from '../helpers/gadgets.js';
import { heldBpfIds, waitFor } from '../helpers/kernel.js';
import { cleanErrorProblems, pwdTimes, PWD_COMM, runWith } from '../helpers/run-with.js';
import { startDaemon } from '../helpers/wasm-daemon.js';
import { buildWasmGadget } from '../helpers/wasm.js';

const store = tempStore();
const env = { ...store.env, IG_WASM_BUDGET_MS: '500' };

beforeAll(async () => {
  for (const g of ['bad', 'bad_import', 'bad_version', 'bad_noversion', 'bad_exports']) await buildWasmGadget(g, `wasm_${g}`, store.env);
  // a module with a valid header and a broken body, and one with a shared memory (threads)
  await buildWasmGadget('', 'wasm_broken', store.env, { wasm: Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7f, 3, 2, 1, 0, 10, 4, 1, 2, 0, 0x0b]) });
  await buildWasmGadget('', 'wasm_threads', store.env, { wasm: Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 4, 1, 3, 1, 1]) });
}, 240_000);
afterAll(() => store.cleanup());

const ERR = (name: string, text: string) => `error: wasm module ${name} ${text}`;

/** ig run with a fault, pwd run twice once attached (for faults on events) */
async function fault(f: string) {
  return runWith(['run', 'wasm_bad', '-o', 'json', '-t', '3', '--comm', PWD_COMM, '--fault', f], env, () => pwdTimes(2));
}

/** A remote run, pwd run `n` times once the daemon has attached. */
async function remote(daemon: { proc: { pid?: number }; address: string }, extra: string[], n: number) {
  const child = spawnIg(['run', 'wasm_bad', '--remote-address', daemon.address, '-o', 'json', '-t', '3', '--comm', PWD_COMM, ...extra], { env });
  const done = collect(child);
  await waitFor(() => heldBpfIds(daemon.proc.pid!).links.length > 0, 15_000, 'the daemon to attach');
  const pids = pwdTimes(n);
  return { ...(await done), pids };
}

describe('bad wasm guests', () => {
  it.each([
    ['trap', 'trapped in dataSourceCallback (datasource getcwd): unreachable; the run is stopped', 'hint: a bug in the module'],
    ['loop', 'did not return from dataSourceCallback (datasource getcwd) within its time budget of 500 ms; the run is stopped', 'hint: the module loops without end'],
    ['recursion', 'did not return from gadgetStart within its time budget of 500 ms; the run is stopped', 'hint: the module loops without end'],
    ['memory', 'trapped in dataSourceCallback (datasource getcwd): unreachable; the run is stopped', 'is at the cap of 16 MiB a module may use (IG\'s limit): the module allocates without bound'],
    ['stack', 'overflowed its stack in dataSourceCallback (datasource getcwd); the run is stopped', 'hint: the module recurses without end'],
    ['exit', 'exited (proc_exit) in dataSourceCallback (datasource getcwd); the run is stopped', ''],
    ['errptr', '', 'error: wasm module wasm_bad: fieldGetScalar: its error pointer is bad: address 0xfffffff0 + length 4 is outside the module\'s memory'],
  ])('%s: the run stops with a clear error', async (f, message, more) => {
    const r = await fault(f);
    expect(cleanErrorProblems(r, /^error: wasm module wasm_bad/m), r.stderr).toEqual([]);
    expect(r.code).toBe(1);
    if (message) expect(r.stderr).toContain(ERR('wasm_bad', message));
    expect(r.stderr).toContain(more);
  });

  it('loop-init and init-fails: the run never starts', async () => {
    const loop = await runIg(['run', 'wasm_bad', '-t', '1', '--fault', 'loop-init'], { env });
    expect(cleanErrorProblems(loop, /did not return from gadgetInit within its time budget of 500 ms/), loop.stderr).toEqual([]);
    const fails = await runIg(['run', 'wasm_bad', '-t', '1', '--fault', 'init-fails'], { env });
    expect(cleanErrorProblems(fails, /^error: wasm module wasm_bad: gadgetInit failed \(it returned 1\)$/m), fails.stderr).toEqual([]);
    expect(fails.stderr).toContain('error: wasm wasm_bad: refusing to start\n');
  });

  it('pointer and handle: the call is refused with a warning (a few, then counted), the events go on', async () => {
    const p = await fault('pointer');
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr).toContain("warning: wasm wasm_bad: fieldSet: address 0xfffffff0 + length 64 is outside the module's memory (131072 bytes)\n");
    const ev = jsonLines(p.stdout);
    expect(ev.map((e) => e.pid)).toEqual(p.triggered);
    expect(ev.every((e) => e.tag === null)).toBe(true);

    const h = await runWith(['run', 'wasm_bad', '-o', 'json', '-t', '3', '--comm', PWD_COMM, '--fault', 'handle'], env, () => pwdTimes(7));
    expect(h.code, h.stderr).toBe(0);
    expect(jsonLines(h.stdout)).toHaveLength(7);
    expect(h.stderr).toContain('warning: wasm wasm_bad: dataSourceSubscribe: handle 999 not found\n');
    const notField = h.stderr.split('\n').filter((l) => l === 'warning: wasm wasm_bad: fieldGetScalar: handle 12345 is not a field');
    expect(notField).toHaveLength(5);
    expect(h.stderr).toContain('warning: wasm wasm_bad: fieldGetScalar: further warnings of this call are only counted\n');
    expect(h.stderr).toMatch(/warning: wasm wasm_bad: mapLookup: handle \d+ is not a map\n/);
    expect(h.stderr).toContain('warning: wasm wasm_bad: releaseHandle: handle 4242 not found\n');
  });

  it.each([
    ['wasm_bad_import', 'imports env.foo (func): ig provides only the modules "ig" (IG\'s wasm API) and "wasi_snapshot_preview1" (functions); ig.doesNotExist, which IG\'s wasm API (version 1) does not have; ig.dataSourceRelease as (i32) -> i32, but IG\'s API has (i32, i32) -> i32'],
    ['wasm_bad_version', '', 'error: wasm module wasm_bad_version: unsupported gadget API version: 2, expected: 1'],
    ['wasm_bad_noversion', "doesn't export gadgetAPIVersion"],
    ['wasm_bad_exports', "exports functions of the wrong type: gadgetInit is () -> (), IG's API has () -> i32"],
    ['wasm_broken', '', 'error: the wasm module of ghcr.io/inspektor-gadget/gadget/wasm_broken:latest is not valid WebAssembly: '],
    ['wasm_threads', '', 'error: the wasm module of ghcr.io/inspektor-gadget/gadget/wasm_threads:latest cannot be used: shared memory (threads) is not supported'],
  ])('%s: refused before anything is loaded', async (image, message, exact = '') => {
    const r = await runIg(['run', image, '-t', '1'], { env });
    expect(cleanErrorProblems(r, /^error: /m), r.stderr).toEqual([]);
    if (message) expect(r.stderr).toContain(ERR(image, message));
    if (exact) expect(r.stderr).toContain(exact);
  });

  it('on a daemon: a trapping guest and a guest that never returns stop their runs; the daemon lives on, holding nothing', async () => {
    const d = await startDaemon(env);
    try {
      for (const f of ['trap', 'loop']) {
        const r = await remote(d, ['--fault', f], 2);
        expect(r.code, r.stderr).not.toBe(0);
        expect(r.stderr).toMatch(/wasm module wasm_bad (trapped in|did not return from) dataSourceCallback \(datasource getcwd\)/);
        await waitFor(() => { const held = heldBpfIds(d.proc.pid!); return held.progs.length === 0 && held.maps.length === 0; }, 10_000, 'the daemon to release the run');
      }
      expect(d.proc.exitCode).toBeNull();
      const ok = await remote(d, [], 1);
      expect(ok.code, ok.stderr).toBe(0);
      expect(jsonLines(ok.stdout).map((e) => e.pid)).toEqual(ok.pids);
    } finally {
      d.stop();
    }
  });
});
