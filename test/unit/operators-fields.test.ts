import { describe, expect, it } from 'vitest';
import type { FieldDesc } from '../../src/gadget/datasource.js';
import { selectFields } from '../../src/operators/fields.js';
import { parseMaxEntries, limitBatch } from '../../src/operators/limit.js';
import { compareValues, parseSort, sortBatch } from '../../src/operators/sort.js';

const fields: FieldDesc[] = [
  { name: 'pid', kind: 'number' },
  { name: 'comm', kind: 'string' },
  { name: 'mntns_id', kind: 'bigint', hidden: true },
  { name: 'fname', kind: 'string' },
];
const names = (f: FieldDesc[]) => f.map((x) => x.name);

describe('--fields', () => {
  it('defaults to the non-hidden fields', () => {
    expect(names(selectFields(fields))).toEqual(['pid', 'comm', 'fname']);
    expect(names(selectFields(fields, ''))).toEqual(['pid', 'comm', 'fname']);
  });
  it('takes an exact list in order', () => {
    expect(names(selectFields(fields, 'fname,mntns_id,pid'))).toEqual(['fname', 'mntns_id', 'pid']);
  });
  it('changes the default set with +/-', () => {
    expect(names(selectFields(fields, '+mntns_id,-comm'))).toEqual(['pid', 'fname', 'mntns_id']);
    expect(names(selectFields(fields, '-pid'))).toEqual(['comm', 'fname']);
  });
  it('rejects unknown fields and mixed styles', () => {
    expect(() => selectFields(fields, 'pid,nope')).toThrow('--fields: unknown field "nope"');
    expect(() => selectFields(fields, '+pid,comm')).toThrow('--fields: "comm" mixes an exact field list with +/- changes');
  });
});

describe('--sort and --max-entries', () => {
  const events = [
    { comm: 'b', n: 5n, pid: 10 },
    { comm: 'a', n: 5n, pid: 9 },
    { comm: 'c', n: 18446744073709551615n, pid: 100 },
    { comm: 'a', n: 1n, pid: 2 },
  ];
  it('sorts on several keys, - descending, numerically', () => {
    const keys = parseSort('-n,comm');
    expect(keys).toEqual([
      { field: 'n', descending: true },
      { field: 'comm', descending: false },
    ]);
    expect(sortBatch({ datasource: 't', events }, keys).events.map((e) => e.pid)).toEqual([100, 9, 10, 2]);
    expect(sortBatch({ datasource: 't', events }, parseSort('pid')).events.map((e) => e.pid)).toEqual([2, 9, 10, 100]);
  });
  it('compares mixed number and bigint exactly', () => {
    expect(compareValues(3, 4n)).toBe(-1);
    expect(compareValues(2n ** 64n, 1.5)).toBe(1);
    expect(compareValues(undefined, 1)).toBe(-1);
  });
  it('rejects unknown sort fields when fields are given', () => {
    expect(() => parseSort('nope', fields)).toThrow('--sort: unknown field "nope"');
  });
  it('limits', () => {
    expect(limitBatch({ datasource: 't', events }, 2).events).toHaveLength(2);
    expect(limitBatch({ datasource: 't', events }, undefined).events).toHaveLength(4);
    expect(parseMaxEntries('10')).toBe(10);
    expect(parseMaxEntries(0)).toBeUndefined();
    expect(() => parseMaxEntries('-1')).toThrow('--max-entries: "-1" is not a non-negative integer');
  });
});
