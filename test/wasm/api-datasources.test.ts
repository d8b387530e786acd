// IG's wasm API, datasource functions: a C guest (guests/datasources.c) copies every event into
// a datasource of its own, drops the even ones from the gadget's (releasing the packet it is
// handed), hides a datasource (unreference), and is refused what IG's host refuses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines } from '../helpers/ig.js';
import { tempStore } from '../helpers/gadgets.js';
import { pwdTimes, PWD_COMM, runWith } from '../helpers/run-with.js';
import { buildWasmGadget, guestLines } from '../helpers/wasm.js';

const store = tempStore();
beforeAll(() => buildWasmGadget('datasources', 'wasm_ds', store.env), 120_000);
afterAll(() => store.cleanup());

describe('wasm datasources', () => {
  it('new datasource and packets, subscriptions by priority, a released packet dropped, unreference', async () => {
    const r = await runWith(['run', 'wasm_ds', '-o', 'json', '-t', '2', '--comm', PWD_COMM], store.env, () => pwdTimes(3));
    expect(r.code, r.stderr).toBe(0);
    expect(guestLines(r.stderr)).toEqual([
      'no such datasource: 0',
      'a second getcwd datasource: 0',
      'hidden referenced before: 1',
      'hidden referenced after: 0, getcwd referenced: 1',
      'array subscription of a single datasource: refused',
      'emitting the packet being delivered: refused',
      'an array packet of a single datasource: 0',
      'after the drop: counter=1',
      'after the drop: counter=3',
    ]);
    for (const w of [
      'getDataSource: datasource not found "no_such_datasource"',
      'newDataSource: a datasource named "getcwd" already exists',
      'dataSourceSubscribe: datasource getcwd: only array datasources can subscribe to array data',
      'dataSourceEmitAndRelease: a packet being delivered to the module cannot be emitted again',
      'dataSourceNewPacketArray: datasource summary: only array datasources can create array packets',
    ]) expect(r.stderr).toContain(`warning: wasm wasm_ds: ${w}\n`);
    const ev = jsonLines(r.stdout);
    // the gadget's datasource: the even events were dropped by the module
    expect(ev.filter((e) => 'counter' in e).map((e) => [e.counter, e.pid])).toEqual([[1, r.triggered[0]], [3, r.triggered[2]]]);
    // the module's datasource: one packet per event, exactly its fields; the released one never shows
    expect(ev.filter((e) => !('counter' in e))).toEqual([
      { seen_pid: r.triggered[0], seen_counter: 1, note: 'kept' },
      { seen_pid: r.triggered[1], seen_counter: 2, note: 'dropped' },
      { seen_pid: r.triggered[2], seen_counter: 3, note: 'kept' },
    ]);
  });
});
