import { describe, it, expect } from 'vitest';
import { parseTextRecords } from '../../src/runtime/text-records.js';

// The exact 114 bytes test/gadgets/iter_text writes (README there).
const ITER_TEXT = '[event]\nname=line1\nline2\0value=a=b=c\0num=42\0' + '[event]\nname=plain\0value=x\0num=7\0noequals\0' + '[event]\nname=trunc\0value=cut';

describe('parseTextRecords', () => {
  it('keeps the two good records of iter_text, drops the pair without "=", skips the truncated record', () => {
    expect(Buffer.byteLength(ITER_TEXT)).toBe(114);
    const r = parseTextRecords(Buffer.from(ITER_TEXT));
    expect(r.events).toEqual([
      { name: 'line1\nline2', value: 'a=b=c', num: 42 },
      { name: 'plain', value: 'x', num: 7 },
    ]);
    expect(r.fields.map((f) => [f.name, f.kind])).toEqual([['name', 'string'], ['value', 'string'], ['num', 'number']]);
    expect(r.skipped).toBe(1);
    expect(r.firstProblem).toMatch(/record 3 is truncated/);
    expect(r.droppedPairs).toBe(1);
    expect(r.firstDroppedPair).toMatch(/record 2 .*"noequals"/);
  });

  it('a record made only of pairs without "=" is skipped', () => {
    const r = parseTextRecords('[event]\njunk\0[event]\na=1\0');
    expect(r.events).toEqual([{ a: 1 }]);
    expect(r.skipped).toBe(1);
  });

  it('a value holding "[event]\\n" does not split its record', () => {
    const r = parseTextRecords('[event]\ncomm=x[event]\ny\0pid=3\0');
    expect(r.events).toEqual([{ comm: 'x[event]\ny', pid: 3 }]);
  });
});
