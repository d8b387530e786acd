import { describe, expect, it } from 'vitest';
import { Priority, type DataOperator } from '../../src/datasource/operator.js';
import { formattersOperator } from '../../src/operators/formatters.js';
import { filterOperator } from '../../src/operators/filter-operator.js';
import { outputOperator } from '../../src/output/operator.js';
import { streamTarget } from '../../src/output/target.js';
import { Batch } from '../../src/datasource/batch.js';
import { Capture } from './output-helpers.js';
import { leaf, layoutDataSource, hostOf, recordBatch } from './engine-helpers.js';

// trace_open-like records as the kernel writes them: pid, comm[16], error_raw (gadget_errno), fname[32]
const SIZE = 56;
const LEAVES = [
  leaf({ name: 'pid', offset: 0, kind: 'int', size: 4 }),
  leaf({ name: 'comm', offset: 4, kind: 'string', size: 16 }),
  leaf({ name: 'error_raw', offset: 20, kind: 'int', size: 4, typedefs: ['gadget_errno'] }),
  leaf({ name: 'fname', offset: 24, kind: 'string', size: 32 }),
];

function record(pid: number, comm: string, errno: number, fname: string): Buffer {
  const b = Buffer.alloc(SIZE);
  b.writeUInt32LE(pid, 0);
  b.write(comm, 4);
  b.writeUInt32LE(errno, 20);
  b.write(fname, 24);
  return b;
}

const RECORDED = Buffer.concat([
  record(42, 'cat', 0, '/etc/passwd'),
  record(7, 'noisy', 2, '/tmp/x'),
  record(1000, 'ls', 2, '/nope'),
]);

/** Adds `tag` (a field of its own) and sets it per record from the record's pid. */
const tagger: DataOperator = {
  name: 'tagger',
  instantiate(ctx) {
    for (const ds of ctx.datasources) {
      ds.addField({ name: 'tag', kind: 'string', width: 6 }, { after: 'pid' });
      const pid = ds.reader('pid');
      const setTag = ds.setter('tag');
      ds.subscribe((b) => {
        for (let k = 0; k < b.count; k++) setTag(b, b.rows[k]!, `p${pid(b, b.rows[k]!) as number}`);
      }, Priority.gadget, 'tagger');
    }
    return {};
  },
};

/** Drops the records of one command (a packet dropper). */
const dropNoisy: DataOperator = {
  name: 'drop-noisy',
  instantiate(ctx) {
    for (const ds of ctx.datasources) {
      const comm = ds.reader('comm');
      ds.subscribe((b) => b.keep((r) => comm(b, r) !== 'noisy'), Priority.gadget + 1, 'drop-noisy');
    }
    return {};
  },
};

/** Sets the tag again, later in the chain (it sees what earlier subscribers did). */
const shout: DataOperator = {
  name: 'shout',
  instantiate(ctx) {
    for (const ds of ctx.datasources) {
      const tag = ds.reader('tag');
      const setTag = ds.setter('tag');
      ds.subscribe((b) => {
        for (let k = 0; k < b.count; k++) setTag(b, b.rows[k]!, String(tag(b, b.rows[k]!)).toUpperCase());
      }, Priority.gadget + 2, 'shout');
    }
    return {};
  },
};

function run(format: string, extra: DataOperator[] = [], fields?: string): string {
  const out = new Capture();
  const ds = layoutDataSource('open', LEAVES, SIZE);
  const { host } = hostOf([ds], [formattersOperator, tagger, dropNoisy, shout, ...extra, outputOperator({ format, fields, target: streamTarget(out) })]);
  host.emit(ds, recordBatch(Buffer.from(RECORDED), SIZE));
  expect(host.error).toBeUndefined();
  return out.text;
}

describe('the engine: recorded records through a chain of operators into the sinks', () => {
  it('json: the added field where it was put, the dropped record gone, the set value the last one', () => {
    expect(run('json')).toBe(
      '{"pid":42,"tag":"P42","comm":"cat","error_raw":0,"error":"","fname":"/etc/passwd"}\n' +
      '{"pid":1000,"tag":"P1000","comm":"ls","error_raw":2,"error":"ENOENT","fname":"/nope"}\n',
    );
  });

  it('columns: the visible fields (raw ones hidden), the same records', () => {
    expect(run('columns')).toBe(
      [
        '    PID TAG    COMM             ERROR      FNAME',
        '     42 P42    cat                         /etc/passwd',
        '   1000 P1000  ls               ENOENT     /nope',
        '',
      ].join('\n'),
    );
  });

  it('a filter reads added and formatted fields like any other', () => {
    expect(run('json', [filterOperator(['tag~^P4', 'error=='])], 'pid,tag')).toBe('{"pid":42,"tag":"P42"}\n');
    expect(run('json', [filterOperator(['error==ENOENT'])], 'pid,error')).toBe('{"pid":1000,"error":"ENOENT"}\n');
  });

  it('records held by an operator and emitted later go through the rest of the chain only', () => {
    const out = new Capture();
    const ds = layoutDataSource('open', LEAVES, SIZE);
    const held: Batch[] = [];
    const holder: DataOperator = {
      name: 'holder',
      instantiate(ctx) {
        ds.subscribe((b) => {
          held.push(b.copyRows(b.liveRows(), ds.recordSize));
          b.keep(() => false);
        }, Priority.containers, 'holder');
        return {};
      },
    };
    const { host } = hostOf([ds], [holder, formattersOperator, tagger, outputOperator({ format: 'json', fields: 'pid,tag,error', target: streamTarget(out) })]);
    host.emit(ds, recordBatch(Buffer.from(RECORDED.subarray(0, SIZE)), SIZE));
    expect(out.text).toBe('');
    host.emit(ds, Batch.concat(held, SIZE), Priority.containers);
    expect(out.text).toBe('{"pid":42,"tag":"p42","error":""}\n');
  });

  it('a failing operator stops the run with its error instead of escaping', () => {
    const ds = layoutDataSource('open', LEAVES, SIZE);
    const broken: DataOperator = { name: 'broken', instantiate: () => (ds.subscribe(() => { throw new Error('boom'); }, 1), {}) };
    const { host } = hostOf([ds], [broken]);
    host.emit(ds, recordBatch(Buffer.from(RECORDED), SIZE));
    expect((host.error as Error).message).toBe('boom');
  });
});
