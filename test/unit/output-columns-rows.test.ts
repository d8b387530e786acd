import { describe, expect, it } from 'vitest';
import { columnFor, renderRow, type Column } from '../../src/output/column-layout.js';
import { compileRowWriter } from '../../src/output/columns-rows.js';
import { formattersOperator } from '../../src/operators/formatters.js';
import { leaf, layoutDataSource, hostOf, recordBatch } from './engine-helpers.js';

// Every shape the row writer specializes (integers, C strings, formatted and derived values) and the
// ones it hands to the string path, against renderRow over the decoded event.
const SIZE = 64;
const LEAVES = [
  leaf({ name: 'pid', offset: 0, kind: 'int', size: 4 }),
  leaf({ name: 'fd', offset: 4, kind: 'int', size: 4, signed: true }),
  leaf({ name: 'big', offset: 8, kind: 'int', size: 8 }),
  leaf({ name: 'comm', offset: 16, kind: 'string', size: 16 }),
  leaf({ name: 'path', offset: 32, kind: 'string', size: 24 }),
  leaf({ name: 'error_raw', offset: 56, kind: 'int', size: 4, typedefs: ['gadget_errno'] }),
  leaf({ name: 'state', offset: 60, kind: 'enum', size: 4, enumValues: [{ name: 'UP', value: 1 }, { name: 'DOWN', value: 2 }] }),
];
const STRINGS = ['', 'cat', 'systemd-journald', '/a/very/long/path/to/a/file.txt', 'tab\there', 'ünïcødé', '日本語のファイル', 'x'.repeat(30)];

function records(n: number): Buffer {
  let s = 0x2545f491;
  const rnd = () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), s >>> 0);
  const buf = Buffer.alloc(n * SIZE);
  for (let i = 0; i < n; i++) {
    const o = i * SIZE;
    buf.writeUInt32LE([0, 7, 4026531840, rnd()][i % 4]!, o);
    buf.writeInt32LE([-1, 0, 3, -2147483648, 2147483647][i % 5]!, o + 4);
    buf.writeBigUInt64LE([0n, 42n, 2n ** 53n + 1n, 2n ** 64n - 1n, BigInt(rnd())][i % 5]!, o + 8);
    Buffer.from(STRINGS[i % STRINGS.length]!).copy(buf, o + 16, 0, 16);
    Buffer.from(STRINGS[(i * 3 + 1) % STRINGS.length]!).copy(buf, o + 32, 0, 24);
    buf.writeUInt32LE(i % 3 === 0 ? 0 : rnd() % 140, o + 56);
    buf.writeUInt32LE(i % 4, o + 60);
  }
  return buf;
}

describe('column rows written straight from records', () => {
  it('are byte for byte what renderRow gives for the decoded event, for every width, alignment and ellipsis', () => {
    const ds = layoutDataSource('shapes', LEAVES, SIZE);
    hostOf([ds], [formattersOperator]);
    const n = 300;
    const u8 = records(n);
    const b = recordBatch(u8, SIZE);
    const decode = ds.decoder();
    const names = ['pid', 'fd', 'big', 'comm', 'path', 'error', 'state'];
    const layouts: Column[][] = [];
    for (const ellipsis of ['end', 'start', 'middle', 'none'] as const) {
      for (const width of [1, 3, 8, 20]) {
        for (const alignment of ['left', 'right'] as const) {
          layouts.push(names.map((name) => ({ ...columnFor({ ...ds.require(name) }), width, minWidth: 1, alignment, ellipsis })));
        }
      }
    }
    layouts.push(names.map((name) => columnFor({ ...ds.require(name) }))); // the fields' own widths
    for (const cols of layouts) {
      const w = compileRowWriter(ds, cols);
      const out = Buffer.alloc(w.maxBytes * 2);
      for (let r = 0; r < n; r++) {
        let end = w.write(b.dv, u8, r * SIZE, b.cols, r, out, 0);
        while (end > 0 && out[end - 1] === 32) end--; // the sink trims trailing blanks as renderRow does
        expect(out.toString('utf8', 0, end)).toBe(renderRow(cols, decode(b, r)));
      }
    }
  });
});
