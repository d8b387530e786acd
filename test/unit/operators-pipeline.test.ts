import { describe, expect, it } from 'vitest';
import type { FieldDesc } from '../../src/gadget/datasource.js';
import { createPipeline } from '../../src/operators/pipeline.js';

const fields: FieldDesc[] = [
  { name: 'pid', kind: 'number' },
  { name: 'comm', kind: 'string' },
  { name: 'bytes', kind: 'bigint' },
];
const events = [
  { pid: 1, comm: 'a', bytes: 10n },
  { pid: 2, comm: 'b', bytes: 300n },
  { pid: 3, comm: 'c', bytes: 20n },
  { pid: 4, comm: 'd', bytes: 5n },
];

describe('pipeline', () => {
  it('filters streams without sorting them', () => {
    const p = createPipeline({ fields, filter: ['pid>1'], sort: '-bytes', maxEntries: 1 });
    const out = p.process({ datasource: 'x', events, lost: 1 });
    expect(out.events.map((e) => e.pid)).toEqual([2, 3, 4]);
    expect(out.lost).toBe(1);
  });
  it('filters, sorts and limits snapshot batches', () => {
    const p = createPipeline({ fields, filter: 'pid!=2', sort: '-bytes', maxEntries: '2' });
    const out = p.process({ datasource: 'x', events, snapshot: true });
    expect(out.events.map((e) => e.pid)).toEqual([3, 1]);
    expect(events.map((e) => e.pid)).toEqual([1, 2, 3, 4]); // input untouched
  });
  it('passes batches through untouched when nothing applies', () => {
    const p = createPipeline({ fields });
    const b = { datasource: 'x', events, snapshot: true };
    expect(p.process(b)).toBe(b);
  });
  it('validates flags up front and exposes kernel pushdown', () => {
    expect(() => createPipeline({ fields, filter: 'nope==1' })).toThrow('filter: unknown field "nope"');
    expect(() => createPipeline({ fields, sort: 'nope' })).toThrow('--sort: unknown field "nope"');
    expect(createPipeline({ fields, filter: 'pid==7,comm==cat' }).kernelFilters).toEqual({ pid: 7, comm: 'cat' });
  });
  it('waits for late fields', () => {
    let late: FieldDesc[] = [];
    const p = createPipeline({ fields: () => late, filter: 'comm==b' });
    expect(p.filters).toEqual([]);
    late = fields;
    expect(p.process({ datasource: 'x', events }).events.map((e) => e.pid)).toEqual([2]);
  });
});
