import { describe, expect, it } from 'vitest';
import type { FieldDesc } from '../../src/model/field.js';
import { selectFields } from '../../src/operators/fields.js';
import { compareValues, parseSort } from '../../src/operators/sort.js';
import { sortOperator, limitOperator } from '../../src/operators/sort-limit.js';
import { runConfig } from '../../src/engine/config.js';
import type { DataOperator } from '../../src/datasource/operator.js';
import { datasourceOfFields, batchOfEvents } from '../../src/datasource/events.js';
import { hostOf } from './engine-helpers.js';

/** A table (snapshot batch) of these events through operators: the events it keeps, in order. */
function table(evs: Record<string, unknown>[], ops: DataOperator[], snapshot = true): Record<string, unknown>[] {
  const ds = datasourceOfFields('t', 'topper', [...fields, { name: 'n', kind: 'bigint' }]);
  hostOf([ds], ops);
  const b = batchOfEvents(ds, evs, { snapshot });
  ds.emit(b);
  return ds.events(b);
}

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
    expect(table(events, [sortOperator('-n,comm')]).map((e) => e.pid)).toEqual([100, 9, 10, 2]);
    expect(table(events, [sortOperator('pid')]).map((e) => e.pid)).toEqual([2, 9, 10, 100]);
    expect(table(events, [sortOperator('pid')], false).map((e) => e.pid)).toEqual(events.map((e) => e.pid)); // streams stay in order
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
    expect(table(events, [limitOperator(2)])).toHaveLength(2);
    expect(table(events, [limitOperator(undefined)])).toHaveLength(4);
    expect(runConfig({ image: 'x', maxEntries: '10' as unknown as number }).maxEntries).toBe(10);
    expect(runConfig({ image: 'x', maxEntries: 0 }).maxEntries).toBeUndefined();
    expect(() => runConfig({ image: 'x', maxEntries: '-1' as unknown as number })).toThrow('--max-entries: "-1" is not a non-negative integer');
  });
});
