// IG's wasm API, data array functions, on a topper (test/gadgets/mapiter_topper): a C guest
// (guests/dataarray.c) changes every row of the table it is handed, appends a row, and emits
// array packets on a datasource of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines } from '../helpers/ig.js';
import { tempStore } from '../helpers/gadgets.js';
import { pwdTimes, PWD_COMM, runWith } from '../helpers/run-with.js';
import { buildWasmGadget, guestLines } from '../helpers/wasm.js';

const store = tempStore();
beforeAll(() => buildWasmGadget('dataarray', 'wasm_arr', store.env, { bpf: 'mapiter_topper', yaml: 'name: wasm_arr\n' }), 120_000);
afterAll(() => store.cleanup());

describe('wasm data arrays', () => {
  it('len, get, fields set in place, new + append (and release), array packets of its own', async () => {
    const args = ['run', 'wasm_arr', '-o', 'json', '-t', '4', '--comm', PWD_COMM, '--map-fetch-interval', '1500ms', '--map-fetch-count', '1'];
    const r = await runWith(args, store.env, () => pwdTimes(2));
    expect(r.code, r.stderr).toBe(0);
    expect(guestLines(r.stderr)).toEqual([
      'a single packet of an array datasource: 0',
      'array of 2, element 2: 0',
      'after append: 3',
      `element ${PWD_COMM} calls=10`,
      `element ${PWD_COMM} calls=10`,
      'element wasm calls=7',
    ]);
    expect(r.stderr).toContain('warning: wasm wasm_arr: dataArrayGet: index 2 out of bounds for array with length 2\n');
    const [totals, table] = jsonLines(r.stdout) as unknown as Record<string, unknown>[][];
    expect(totals).toEqual([{ total: 27, rows: 3 }]);
    // the map's rows (in the hash map's order), then the appended one
    const rows = table!.map((e) => [e.pid, e.comm, e.calls]);
    const byPid = (a: unknown[], b: unknown[]) => (a[0] as number) - (b[0] as number);
    expect(rows.slice(0, -1).sort(byPid)).toEqual(r.triggered.map((pid) => [pid, PWD_COMM, 10]).sort(byPid));
    expect(rows.at(-1)).toEqual([424143, 'wasm', 7]);
  });
});
