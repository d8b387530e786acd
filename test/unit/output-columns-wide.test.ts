/**
 * Wide (CJK) text in columns: both ways of writing a row — the string path (renderRow over a
 * decoded event) and the byte writer (compileRowWriter over record bytes) — give the same bytes,
 * and every column starts at the same display cell whatever the script of the values before it.
 */
import { describe, expect, it } from 'vitest';
import type { Leaf } from '../../src/btf/layout.js';
import { columnFor, renderRow, textWidth, type Column } from '../../src/output/column-layout.js';
import { compileRowWriter } from '../../src/output/columns-rows.js';
import { leaf, layoutDataSource, recordBatch } from './engine-helpers.js';

const LEAVES: Leaf[] = [
  leaf({ name: 'pid', offset: 0, kind: 'int', size: 4 }),
  leaf({ name: 'comm', offset: 4, kind: 'string', size: 16, typedefs: ['gadget_comm'] }),
  leaf({ name: 'fname', offset: 20, kind: 'string', size: 64 }),
  leaf({ name: 'fd', offset: 84, kind: 'int', size: 4, signed: true }),
];
const SIZE = 88;
const NAMES = ['a.txt', '日本語のファイル名.txt', '中文文件名称很长很长很长很长.log', '한국어', 'mixed-漢字-kana-カナ', 'emoji-🙂🙂', 'x'.repeat(40), 'é-combining'];
const COMMS = ['cat', '猫', 'ねこねこ', 'systemd-journald'];

function records(): Buffer {
  const n = NAMES.length * COMMS.length;
  const buf = Buffer.alloc(n * SIZE);
  for (let i = 0; i < n; i++) {
    const o = i * SIZE;
    buf.writeUInt32LE(1000 + i, o);
    Buffer.from(COMMS[i % COMMS.length]!).copy(buf, o + 4, 0, 15);
    Buffer.from(NAMES[Math.floor(i / COMMS.length)]!).copy(buf, o + 20, 0, 63);
    buf.writeInt32LE(i % 5 === 0 ? -1 : i, o + 84);
  }
  return buf;
}

describe('columns with wide characters', () => {
  const ds = layoutDataSource('open', LEAVES, SIZE);
  const u8 = records();
  const b = recordBatch(u8, SIZE);
  const decode = ds.decoder();
  const layouts: [string, Column[]][] = [
    ['cut (a terminal)', ds.fields.map((f) => ({ ...columnFor(f), width: f.name === 'fname' ? 20 : columnFor(f).width }))],
    ['not cut (a pipe)', ds.fields.map((f) => ({ ...columnFor(f), width: f.name === 'fname' ? 20 : columnFor(f).width, truncate: false }))],
  ];

  for (const [what, cols] of layouts) {
    it(`the byte writer gives renderRow's bytes, ${what}`, () => {
      const w = compileRowWriter(ds, cols);
      const out = Buffer.alloc(w.maxBytes * 2);
      for (let r = 0; r < b.count; r++) {
        const end = w.write(b.dv, u8, r * SIZE, b.cols, r, out, 0);
        expect(out.toString('utf8', 0, end).trimEnd()).toBe(renderRow(cols, decode(b, r)));
      }
    });
  }

  it('on a terminal, every row is exactly as wide as its columns, whatever the script', () => {
    const cols = layouts[0]![1];
    const width = cols.reduce((n, c) => n + c.width, 0) + cols.length - 1; // 7 + 16 + 20 + 7 and the spaces
    for (let r = 0; r < b.count; r++) expect(textWidth(renderRow(cols, decode(b, r))), renderRow(cols, decode(b, r))).toBe(width);
    expect(renderRow(cols, decode(b, COMMS.length))).toBe('   1004 cat              日本語のファイル名.…       4');
    expect(renderRow(cols, decode(b, COMMS.length + 1))).toBe('   1005 猫               日本語のファイル名.…      -1');
  });
});
