import { describe, expect, it } from 'vitest';
import type { Leaf } from '../../src/btf/layout.js';
import { compileSerializer } from '../../src/output/json.js';
import { compileJsonWriter } from '../../src/output/json-records.js';
import { setBootOffsetNs, resetBootOffset } from '../../src/format/timestamp.js';
import { formattersOperator } from '../../src/operators/formatters.js';
import { leaf, layoutDataSource, hostOf, recordBatch } from './engine-helpers.js';

// A record with every shape the writer specializes (and those it hands to encodeValue).
const LEAVES: Leaf[] = [
  leaf({ name: 'timestamp_raw', offset: 0, kind: 'int', size: 8, typedefs: ['gadget_timestamp'] }),
  leaf({ name: 'big', offset: 8, kind: 'int', size: 8 }),
  leaf({ name: 'neg', offset: 16, kind: 'int', size: 8, signed: true }),
  leaf({ name: 'pid', offset: 24, kind: 'int', size: 4 }),
  leaf({ name: 'fd', offset: 28, kind: 'int', size: 4, signed: true }),
  leaf({ name: 'port16', offset: 32, kind: 'int', size: 2 }),
  leaf({ name: 'b', offset: 34, kind: 'int', size: 1, signed: true }),
  leaf({ name: 'ok', offset: 35, kind: 'bool', size: 1 }),
  leaf({ name: 'ratio', offset: 36, kind: 'float', size: 4, signed: true }),
  leaf({ name: 'comm', offset: 40, kind: 'string', size: 16 }),
  leaf({ name: 'path', offset: 56, kind: 'string', size: 32 }),
  leaf({ name: 'error_raw', offset: 88, kind: 'int', size: 4, typedefs: ['gadget_errno'] }),
  leaf({ name: 'flags_raw', offset: 92, kind: 'int', size: 4, typedefs: ['gadget_file_flags'] }),
  leaf({ name: 'state', offset: 96, kind: 'enum', size: 4, enumValues: [{ name: 'UP', value: 1 }, { name: 'DOWN', value: 2 }] }),
  leaf({ name: 'perm', offset: 100, kind: 'enum', size: 4, isSet: true, enumValues: [{ name: 'R', value: 4 }, { name: 'W', value: 2 }, { name: 'X', value: 1 }] }),
  leaf({ name: 'bf', offset: 104, kind: 'bitfield', size: 4, bitOffset: 104 * 8 + 3, bits: 5 }),
  leaf({ name: 'bfe', offset: 105, kind: 'bitfield', size: 4, bitOffset: 105 * 8, bits: 3, enumValues: [{ name: 'A', value: 0 }, { name: 'B', value: 1 }] }),
  leaf({ name: 'ports', offset: 108, kind: 'array', size: 8, elem: { kind: 'int', size: 2, signed: false, count: 4 } }),
  leaf({ name: 'src', offset: 116, kind: 'endpoint', size: 24, endpoint: { l4: true, addr: 0, version: 16, port: 18, proto: 20 } }),
  leaf({ name: 'src.port', offset: 134, kind: 'int', size: 2 }),
  leaf({ name: 'nested.inner.val', offset: 144, kind: 'int', size: 8 }),
];
const SIZE = 152;

const STRINGS = ['', 'cat', 'a"b\\c', 'tab\there\n', 'ünïcødé', 'x'.repeat(40), '\u0001ctl'];
const INVALID_UTF8 = [0xff, 0xfe, 0x41, 0xc3];

/** Deterministic pseudo-random records (xorshift), with the string and time cases that matter. */
function records(n: number): Buffer {
  let s = 0x9e3779b9;
  const rnd = () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), s >>> 0);
  const buf = Buffer.alloc(n * SIZE);
  for (let i = 0; i < n; i++) {
    const o = i * SIZE;
    for (let k = 0; k < SIZE; k++) buf[o + k] = rnd() & 0xff;
    const times = [0n, 1n, 123456789012345n, 2n ** 60n, BigInt(rnd()) * 1000003n];
    buf.writeBigUInt64LE(times[i % times.length]!, o);
    if (i % 3 === 0) buf.writeBigUInt64LE(BigInt(rnd()), o + 8); // a number, not a bigint
    buf.writeUInt32LE(i % 4 === 0 ? 2 : rnd() % 200, o + 88); // ENOENT, or any errno
    buf.writeUInt32LE([0, 0o100, 0o2101102, rnd()][i % 4]!, o + 92);
    for (const [at, len] of [[40, 16], [56, 32]] as const) {
      buf.fill(0, o + at, o + at + len);
      if (i % 11 === 10) Buffer.from(INVALID_UTF8).copy(buf, o + at);
      else Buffer.from(STRINGS[(i + at) % STRINGS.length]!).copy(buf, o + at, 0, len); // may fill it, no NUL
    }
    buf[o + 116 + 16] = i % 2 ? 4 : 6;
  }
  return buf;
}

/** The record layout with the formatted siblings (`error` of `error_raw`, …) the formatters operator adds. */
function dataSource() {
  const ds = layoutDataSource('shapes', LEAVES, SIZE);
  hostOf([ds], [formattersOperator]);
  return ds;
}

describe('JSON written straight from records', () => {
  const ds = dataSource();
  const all = ds.fields.map((f) => f.name);

  it('is byte for byte what decoding and serializing give, for every field shape', () => {
    setBootOffsetNs(1_700_000_000_123_456_789n);
    try {
      const n = 400;
      const u8 = Buffer.concat([records(n), Buffer.alloc(4 * SIZE)]); // 4 slots for changed copies
      const b = recordBatch(u8, SIZE);
      const decode = ds.decoder();
      for (const names of [all, ['nested.inner.val', 'pid', 'src', 'timestamp', 'error', 'comm'], []]) {
        const writer = compileJsonWriter(ds, names);
        const serialize = compileSerializer(names);
        const out = Buffer.alloc(writer.maxBytes * 2);
        // each record twice in a row (a burst from one process), then a copy with one byte of one integer changed
        for (let i = 0; i < n; i++) {
          const changed = n + (i % 4);
          u8.copy(u8, changed * SIZE, i * SIZE, (i + 1) * SIZE);
          u8[changed * SIZE + [9, 20, 25, 34][i % 4]!]! ^= 1; // big, neg, pid, b
          for (const r of [i, i, changed]) {
            const end = writer.write(b.dv, u8, r * SIZE, b.cols, r, out, 0);
            expect(end).toBeLessThanOrEqual(writer.maxBytes);
            expect(out.toString('utf8', 0, end)).toBe(serialize(decode(b, r)));
          }
        }
      }
    } finally {
      resetBootOffset();
    }
  });

  it('puts values derived from a slot beside the bytes (container fields) where their names fall, nested with the rest', () => {
    const d = dataSource();
    const from = d.addSlot();
    const container = { node: 'n1', pod: 'web', pid: 42 };
    type C = typeof container | undefined;
    d.addDerived({ name: 'k8s.node', kind: 'string' }, from, (c) => (c as C)?.node ?? '');
    d.addDerived({ name: 'k8s.podName', kind: 'string' }, from, (c) => (c as C)?.pod ?? '');
    d.addDerived({ name: 'runtime.containerPid', kind: 'number' }, from, (c) => (c as C)?.pid ?? 0);
    const u8 = records(2);
    const b = recordBatch(u8, SIZE);
    b.column(from.slot)[0] = container;
    const names = ['k8s.node', 'pid', 'k8s.podName', 'runtime.containerPid'];
    const writer = compileJsonWriter(d, names);
    const out = Buffer.alloc(writer.maxBytes);
    const line = (r: number) => out.toString('utf8', 0, writer.write(b.dv, u8, r * SIZE, b.cols, r, out, 0));
    expect(line(0)).toBe(`{"k8s":{"node":"n1","podName":"web"},"pid":${u8.readUInt32LE(24)},"runtime":{"containerPid":42}}`);
    expect(line(1)).toBe(`{"k8s":{"node":"","podName":""},"pid":${u8.readUInt32LE(SIZE + 24)},"runtime":{"containerPid":0}}`);
  });

  it('names a field the datasource does not have', () => {
    expect(() => compileJsonWriter(ds, ['pid', 'nope'])).toThrow(/unknown field "nope"/);
  });
});
