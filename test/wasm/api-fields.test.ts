// IG's wasm API, field functions: a C guest (test/gadgets/wasm_host/guests/fields.c) reads every
// scalar kind of a known record, strings and bytes, adds a field of every kind (IG's test values)
// and sets static fields in the record; `ig run -o json` shows exactly that.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines } from '../helpers/ig.js';
import { tempStore } from '../helpers/gadgets.js';
import { pwdTimes, PWD_COMM, runWith } from '../helpers/run-with.js';
import { buildWasmGadget, guestLines } from '../helpers/wasm.js';

const store = tempStore();
beforeAll(() => buildWasmGadget('fields', 'wasm_fields', store.env), 120_000);
afterAll(() => store.cleanup());

describe('wasm fields', () => {
  it('reads every scalar kind, strings and bytes; adds and sets fields of every kind; sets static fields', async () => {
    const r = await runWith(['run', 'wasm_fields', '-o', 'json', '-t', '2', '--comm', PWD_COMM], store.env, () => pwdTimes(2));
    expect(r.code, r.stderr).toBe(0);
    expect(guestLines(r.stderr)).toEqual([
      'no such field: 0',
      'adding field_bool again: 0',
      'adding a field of kind 15: 0',
      `read: counter=1 small=-5 port=8080 neg=-7 big=-1234567890123 ratio=1.5 precise=-2.25 yes=1 text=hello from bpf comm=${PWD_COMM} raw=4:01020304`,
      'uint32 of the 8-byte counter: refused',
      'text into 4 bytes: refused',
      'string into the int8 kind: refused',
    ]);
    expect(r.stderr).toMatch(/^warning: wasm wasm_fields: dataSourceAddField: adding field "field_bool" to datasource "getcwd": field "field_bool" already exists$/m);
    expect(r.stderr).toMatch(/^warning: wasm wasm_fields: dataSourceAddField: invalid field kind 15$/m);
    expect(r.stderr).toMatch(/^warning: wasm wasm_fields: fieldGetScalar: field "counter" is 8 bytes; a uint32 access needs 4$/m);
    const ev = jsonLines(r.stdout);
    expect(ev.map((e) => e.counter)).toEqual([1, 2]);
    expect(ev.map((e) => e.pid)).toEqual(r.triggered);
    for (const e of ev) {
      expect(e).toMatchObject({
        field_bool: true, field_int8: -123, field_int16: -25647, field_int32: -535245564, field_int64: -1234567890,
        field_uint8: 56, field_uint16: 12345, field_uint32: 1234567890, field_uint64: 1234567890123456,
        field_float32: 3.14159, field_float64: 3.14159265359, field_string: 'Hello, World!', field_bytes: '0102030405',
        // static fields changed in the record
        text: 'set by wasm', port: 9090, big: -2469135780246,
        small: -5, neg: -7, ratio: 1.5, precise: -2.25, yes: true, raw: [1, 2, 3, 4],
      });
    }
  });
});

describe('wasm fieldAddTag', () => {
  it('the tags a guest adds are the fields\' tags in the gadget\'s description (what GetGadgetInfo and --help read)', async () => {
    const { prepareGadget, describeGadget } = await import('../../dist/engine/run.js');
    const { runConfig } = await import('../../dist/engine/config.js');
    const cfg = runConfig({ image: 'wasm_fields', pull: 'never', oci: { store: store.dir } });
    const p = await prepareGadget(cfg);
    try {
      const fields = describeGadget(p, cfg).datasources[0]!.fields;
      const tags = Object.fromEntries(fields.filter((f) => f.name.startsWith('field_')).map((f) => [f.name, f.tags]));
      expect(tags).toEqual(Object.fromEntries(['bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float32', 'float64', 'string', 'bytes']
        .map((k) => [`field_${k}`, [`tag_${k}`]])));
      expect(fields.find((f) => f.name === 'field_uint64')).toMatchObject({ kind: 'bigint', typeName: 'uint64' });
    } finally {
      await p.close();
    }
  });
});
