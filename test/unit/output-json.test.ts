import { beforeAll, describe, expect, it } from 'vitest';
import type { FieldDesc } from '../../src/model/field.js';
import { LostCounter } from '../../src/datasource/lost.js';
import { compileSerializer, encodeValue, nestEvent } from '../../src/output/json.js';
import { loadYamlWriter } from '../../src/output/yaml.js';
import { Capture, eventSink } from './output-helpers.js';

// the output operator loads the YAML library before a yaml run starts; these sinks are made directly
beforeAll(() => loadYamlWriter());

const fields: FieldDesc[] = [
  { name: 'pid', kind: 'number' },
  { name: 'comm', kind: 'string' },
  { name: 'k8s.podName', kind: 'string' },
  { name: 'k8s.namespace', kind: 'string' },
  { name: 'mntns_id', kind: 'bigint' },
  { name: 'fds', kind: 'array' },
  { name: 'proc.creds.uid', kind: 'number' },
];

const ev = {
  pid: 42,
  comm: 'cat "x"\n',
  'k8s.podName': 'web-1',
  'k8s.namespace': 'default',
  mntns_id: 4026531840n,
  fds: [3, 4],
  'proc.creds.uid': 0,
};

describe('json serializer', () => {
  it('re-nests dotted names and keeps the field order', () => {
    const s = compileSerializer(fields.map((f) => f.name));
    expect(s(ev)).toBe(
      '{"pid":42,"comm":"cat \\"x\\"\\n","k8s":{"podName":"web-1","namespace":"default"},"mntns_id":4026531840,"fds":[3,4],"proc":{"creds":{"uid":0}}}',
    );
  });
  it('turns unsafe bigints into strings and missing values into null', () => {
    const s = compileSerializer(['a', 'b', 'c', 'd']);
    expect(s({ a: 18446744073709551615n, b: -5n, d: new Uint8Array([1, 2]) })).toBe(
      '{"a":"18446744073709551615","b":-5,"c":null,"d":[1,2]}',
    );
    expect(encodeValue(NaN)).toBe('null');
    expect(encodeValue({ x: 1n, y: [true] })).toBe('{"x":1,"y":[true]}');
  });
  it('escapes control characters and lone surrogates like JSON.stringify', () => {
    for (const v of ['a\tb\u0001', 'ünïcødé 🙂', 'x\ud800y', 'q"\\', '\u2028']) {
      expect(encodeValue(v)).toBe(JSON.stringify(v));
      expect(JSON.parse(encodeValue(v))).toBe(v);
    }
    expect(encodeValue(-0.5)).toBe('-0.5');
    expect(encodeValue(Infinity)).toBe('null');
  });
  it('is valid JSON equal to the nested object', () => {
    expect(nestEvent(ev, ['k8s.podName', 'pid'])).toEqual({ k8s: { podName: 'web-1' }, pid: 42 });
  });
  it('escapes odd keys safely', () => {
    const s = compileSerializer(["a'b", 'c\\d', 'x"y']);
    expect(JSON.parse(s({ "a'b": 1, 'c\\d': 2, 'x"y': 3 }))).toEqual({ "a'b": 1, 'c\\d': 2, 'x"y': 3 });
  });
});

describe('json sinks', () => {
  it('writes one object per line', async () => {
    const out = new Capture();
    const sink = eventSink('json', { stream: out, fields: fields.slice(0, 2) });
    sink.write({ datasource: 'open', events: [{ pid: 1, comm: 'a' }, { pid: 2, comm: 'b' }] });
    await sink.end();
    expect(out.text).toBe('{"pid":1,"comm":"a"}\n{"pid":2,"comm":"b"}\n');
  });
  it('writes a snapshot as one array', () => {
    const out = new Capture();
    const sink = eventSink('json', { stream: out, fields: fields.slice(0, 1) });
    sink.write({ datasource: 'p', snapshot: true, events: [{ pid: 1 }, { pid: 2 }] });
    expect(out.text).toBe('[{"pid":1},{"pid":2}]\n');
  });
  it('pretty-prints', () => {
    const out = new Capture();
    const sink = eventSink('jsonpretty', { stream: out, fields: [fields[0]!, fields[2]!] });
    sink.write({ datasource: 'open', events: [{ pid: 1, 'k8s.podName': 'p' }] });
    expect(out.text).toBe('{\n  "pid": 1,\n  "k8s": {\n    "podName": "p"\n  }\n}\n');
  });
  it('adds a lost counter record', async () => {
    const out = new Capture();
    const lost = new LostCounter();
    const sink = eventSink('json', { stream: out, fields: fields.slice(0, 1), lost });
    lost.add(3);
    sink.write({ datasource: 'open', events: [{ pid: 1 }], lost: 3 });
    expect(out.text).toBe('{"pid":1}\n{"lost":3,"lostTotal":3}\n');
  });
  it('writes yaml documents', () => {
    const out = new Capture();
    const sink = eventSink('yaml', { stream: out, fields: [fields[0]!, fields[2]!, fields[4]!] });
    sink.write({ datasource: 'open', events: [{ pid: 1, 'k8s.podName': 'p', mntns_id: 7n }] });
    expect(out.text).toBe('---\npid: 1\nk8s:\n  podName: p\nmntns_id: 7\n');
  });
  it('quotes strings a YAML 1.1 reader would take for timestamps, booleans or numbers', () => {
    const out = new Capture();
    const f = [{ name: 'timestamp', kind: 'string' as const }, { name: 'comm', kind: 'string' as const }, { name: 'fname', kind: 'string' as const }];
    const sink = eventSink('yaml', { stream: out, fields: f });
    sink.write({ datasource: 'open', events: [{ timestamp: '2026-12-03T11:14:58.123456789Z', comm: 'yes', fname: '/etc/passwd' }] });
    expect(out.text).toBe('---\ntimestamp: "2026-12-03T11:14:58.123456789Z"\ncomm: "yes"\nfname: /etc/passwd\n');
  });
});

describe('back-pressure', () => {
  it('drops whole batches when the stream buffers too much and counts them as lost', async () => {
    // a writable that never completes its writes
    const { Writable } = await import('node:stream');
    const stuck = new Writable({ write: () => undefined, highWaterMark: 16 });
    const lost = new LostCounter();
    const sink = eventSink('json', { stream: stuck, fields: fields.slice(0, 1), lost, highWaterMark: 30 });
    sink.write({ datasource: 'open', events: [{ pid: 1 }, { pid: 2 }, { pid: 3 }] }); // 30 bytes, taken
    sink.write({ datasource: 'open', events: [{ pid: 4 }] }); // 30 bytes buffered: still ≤ mark → taken
    sink.write({ datasource: 'open', events: [{ pid: 5 }, { pid: 6 }] }); // over → dropped
    expect(stuck.writableLength).toBe(40);
    expect(lost.total).toBe(2);
    expect(sink.dropped).toBe(2);
  });
});
