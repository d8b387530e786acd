import { describe, expect, it } from 'vitest';
import { IgError } from '../../src/errors.js';
import type { FieldDesc } from '../../src/model/field.js';
import { compileFilter, kernelPushdown, parseFilters, splitFilterSpec } from '../../src/operators/filter.js';
import { filterOperator } from '../../src/operators/filter-operator.js';
import { datasourceOfFields, batchOfEvents } from '../../src/datasource/events.js';
import { hostOf } from './engine-helpers.js';

const fields: FieldDesc[] = [
  { name: 'pid', kind: 'number', typeName: 'gadget_pid' },
  { name: 'proc.tid', kind: 'number' },
  { name: 'comm', kind: 'string', typeName: 'gadget_comm' },
  { name: 'fname', kind: 'string' },
  { name: 'uid_raw', kind: 'number', typeName: 'gadget_uid' },
  { name: 'uid', kind: 'string', rawOf: 'uid_raw' },
  { name: 'mntns_id', kind: 'bigint' },
  { name: 'ok', kind: 'bool' },
  { name: 'k8s.podName', kind: 'string' },
];

const events = [
  { pid: 1, 'proc.tid': 1, comm: 'systemd', fname: '/etc/a,b', uid_raw: 0, uid: 'root', mntns_id: 4026531840n, ok: true, 'k8s.podName': '' },
  { pid: 200, 'proc.tid': 201, comm: 'cat', fname: '/etc/passwd', uid_raw: 1000, uid: 'alice', mntns_id: 4026532000n, ok: false, 'k8s.podName': 'web-1' },
  { pid: 3000, 'proc.tid': 3000, comm: 'bash', fname: '/tmp/x', uid_raw: 1000, uid: 'alice', mntns_id: 18446744073709551615n, ok: true, 'k8s.podName': 'db-0' },
];

function run(...specs: string[]): number[] {
  const pred = compileFilter(parseFilters(specs, fields));
  return events.filter(pred).map((e) => e.pid);
}

function err(fn: () => unknown): IgError {
  try {
    fn();
  } catch (e) {
    if (e instanceof IgError) return e;
    throw e;
  }
  throw new Error('expected an IgError');
}

describe('filter', () => {
  it('supports every operator', () => {
    expect(run('comm==cat')).toEqual([200]);
    expect(run('comm!=cat')).toEqual([1, 3000]);
    expect(run('pid>=200')).toEqual([200, 3000]);
    expect(run('pid>200')).toEqual([3000]);
    expect(run('pid<=200')).toEqual([1, 200]);
    expect(run('pid<200')).toEqual([1]);
    expect(run('fname~^/etc/')).toEqual([1, 200]);
    expect(run('fname!~^/etc/')).toEqual([3000]);
    expect(run('k8s.podName==')).toEqual([1]);
    expect(run('ok==true')).toEqual([1, 3000]);
    expect(run('ok!=true')).toEqual([200]);
  });
  it('compares numerically, also bigints beyond 2^53', () => {
    expect(run('pid>30')).toEqual([200, 3000]); // not string comparison ("200" < "30")
    expect(run('mntns_id==18446744073709551615')).toEqual([3000]);
    expect(run('mntns_id<4026532000')).toEqual([1]);
    expect(run('pid==0xc8')).toEqual([200]);
  });
  it('ANDs comma-separated expressions and several flags', () => {
    expect(run('uid==alice,pid>1000')).toEqual([3000]);
    expect(run('uid==alice', 'comm==cat')).toEqual([200]);
  });
  it('unescapes \\, in values', () => {
    expect(splitFilterSpec('a==1\\,2,b==3')).toEqual(['a==1,2', 'b==3']);
    expect(run('fname==/etc/a\\,b')).toEqual([1]);
    expect(run('fname~a\\,b$')).toEqual([1]);
  });
  it('keeps == values that contain operator characters', () => {
    expect(parseFilters('fname==a>=b', fields)[0]).toMatchObject({ op: '==', value: 'a>=b' });
  });
  it('rejects unknown fields with the list of fields', () => {
    const e = err(() => parseFilters('foo==1', fields));
    expect(e.code).toBe('usage');
    expect(e.message).toBe('filter: unknown field "foo"');
    expect(e.hint).toBe('available fields: pid, proc.tid, comm, fname, uid_raw, uid, mntns_id, ok, k8s.podName');
  });
  it('names the bad part of a malformed expression', () => {
    expect(err(() => parseFilters('pid=1', fields)).message).toBe('filter: expected an operator after "pid" in "pid=1", got "=1"');
    expect(err(() => parseFilters('pid', fields)).message).toBe('filter: expected an operator after "pid" in "pid", got nothing');
    expect(err(() => parseFilters('==1', fields)).message).toBe('filter: expression "==1" does not start with a field name');
    expect(err(() => parseFilters('pid==1,,comm==a', fields)).message).toBe('filter: empty expression in "pid==1,,comm==a"');
    expect(err(() => parseFilters('pid==abc', fields)).message).toBe('filter: field "pid" is numeric but "abc" is not a number (in "pid==abc")');
    expect(err(() => parseFilters('fname~(', fields)).message).toMatch(/^filter: invalid regular expression "\(" in "fname~\(": /);
  });
  it('filters a batch, keeping lost and snapshot', () => {
    const ds = datasourceOfFields('x', 'tracer', fields);
    hostOf([ds], [filterOperator(['pid==1'])]);
    const b = batchOfEvents(ds, events, { lost: 2, snapshot: true });
    ds.emit(b);
    expect(ds.events(b)).toEqual([events[0]]);
    expect([b.lost, b.snapshot]).toEqual([2, true]);
  });
  it('no filter accepts everything', () => {
    expect(run()).toEqual([1, 200, 3000]);
    expect(parseFilters(undefined, fields)).toEqual([]);
  });
});

describe('kernelPushdown', () => {
  it('pushes equality on pid/tid/uid/gid/comm only', () => {
    expect(kernelPushdown(parseFilters('pid==42,comm==cat,proc.tid==7,uid_raw==1000', fields))).toEqual({
      pid: 42,
      tid: 7,
      uid: 1000,
      comm: 'cat',
    });
    // the formatted user name cannot go to the kernel, nor can ranges or regexes
    expect(kernelPushdown(parseFilters('uid==root,pid>5,comm~ca', fields))).toEqual({});
  });
});
