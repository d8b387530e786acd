import { describe, expect, it } from 'vitest';
import { padShortRecords } from '../../src/runtime/sources/stream.js';

describe('records shorter than the layout (a variable-size tail)', () => {
  const batch = () => ({
    data: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
    offsets: Uint32Array.of(0, 4, 6),
    sizes: Uint32Array.of(4, 2, 4),
    lost: 3,
  });

  it('are read from zero-padded copies; whole records stay where they are', () => {
    const b = padShortRecords(batch(), 4);
    expect(b.lost).toBe(3);
    expect([...b.sizes]).toEqual([4, 4, 4]);
    const rec = (i: number) => [...b.data.subarray(b.offsets[i]!, b.offsets[i]! + b.sizes[i]!)];
    expect(rec(0)).toEqual([1, 2, 3, 4]);
    expect(rec(1)).toEqual([5, 6, 0, 0]);
    expect(rec(2)).toEqual([7, 8, 9, 10]);
  });

  it('leave a batch without them untouched (no copy)', () => {
    const b = batch();
    expect(padShortRecords(b, 2)).toBe(b);
  });
});
