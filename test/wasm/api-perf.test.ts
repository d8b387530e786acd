// IG's wasm API, perf reader functions: a C guest (guests/perf.c) reads the gadget's perf event
// array itself, overwritable (paused, newest first) and forward, as IG's perf test does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempStore } from '../helpers/gadgets.js';
import { pwdTimes, PWD_COMM, runWith } from '../helpers/run-with.js';
import { buildWasmGadget, guestLines } from '../helpers/wasm.js';

const store = tempStore();
beforeAll(() => buildWasmGadget('perf', 'wasm_perf', store.env), 120_000);
afterAll(() => store.cleanup());

describe('wasm perf readers', () => {
  it('overwritable: refused until paused, then every record since, then deadline exceeded; closed', async () => {
    const r = await runWith(['run', 'wasm_perf', '-o', 'json', '-t', '2', '--comm', PWD_COMM], store.env, () => pwdTimes(3));
    expect(r.code, r.stderr).toBe(0);
    expect(guestLines(r.stderr)).toEqual([
      'read before pause: -1',
      'a perf reader over test_map: 0',
      'overwritable: 3 records, 3 of them {42, 42, 43}, then deadline exceeded',
      'again: 2',
      'read after close: -1',
    ]);
    expect(r.stderr).toContain('warning: wasm wasm_perf: perfReaderRead: reading perf buffer: an overwritable perf reader must be paused before reading');
    expect(r.stderr).toContain('warning: wasm wasm_perf: newPerfReader: creating perf reader: map test_map is not a perf event array\n');
  });

  it('forward: the records in order, then it waits out the call\'s time budget: deadline exceeded', async () => {
    const env = { ...store.env, IG_WASM_BUDGET_MS: '600' };
    const r = await runWith(['run', 'wasm_perf', '-o', 'json', '-t', '2', '--comm', PWD_COMM, '--overwritable', 'false'], env, () => pwdTimes(3));
    expect(r.code, r.stderr).toBe(0);
    expect(guestLines(r.stderr)).toEqual([
      'a perf reader over test_map: 0',
      'forward: 3 records, 3 of them {42, 42, 43}, then deadline exceeded',
    ]);
  });
});
