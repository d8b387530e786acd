import { describe, expect, it } from 'vitest';
import type { FieldDesc } from '../../src/model/field.js';
import { columnFor, cut, fitColumns, renderHeader, renderRow } from '../../src/output/columns.js';
import { Capture, eventSink } from './output-helpers.js';

const fields: FieldDesc[] = [
  { name: 'k8s.podName', kind: 'string', width: 12 },
  { name: 'pid', kind: 'number', template: 'pid' },
  { name: 'comm', kind: 'string', template: 'comm' },
  { name: 'fd', kind: 'number', width: 3 },
  { name: 'secret', kind: 'string', hidden: true },
  { name: 'fname', kind: 'string', width: 20, minWidth: 8 },
];

describe('columns', () => {
  it('prints an uppercase header and aligned rows, hidden fields left out', async () => {
    const out = new Capture({ tty: true });
    const sink = eventSink('columns', { stream: out, allFields: fields });
    sink.write({
      datasource: 'open',
      events: [
        { 'k8s.podName': 'web-1', pid: 1234, comm: 'cat', fd: 3, secret: 's', fname: '/etc/passwd' },
        { 'k8s.podName': 'a-very-long-pod-name', pid: 1, comm: 'systemd-journald', fd: 12, fname: '/var/log/journal/x' },
      ],
    });
    await sink.end();
    expect(out.text.split('\n')).toEqual([
      'K8S.PODNAME      PID COMM              FD FNAME',
      'web-1           1234 cat                3 /etc/passwd',
      'a-very-long…       1 systemd-journald  12 /var/log/journal/x',
      '',
    ]);
  });

  it('writes the header once, even before events', () => {
    const out = new Capture();
    const sink = eventSink('columns', { stream: out, fields: [fields[1]!, fields[2]!] });
    sink.writeHeader();
    sink.write({ datasource: 'x', events: [{ pid: 1, comm: 'a' }] });
    sink.write({ datasource: 'x', events: [{ pid: 2, comm: 'b' }] });
    expect(out.text).toBe('    PID COMM\n      1 a\n      2 b\n');
  });

  it('cuts with ellipsis at end, start, middle or not at all', () => {
    expect(cut('abcdefghij', 6, 'end')).toBe('abcde…');
    expect(cut('abcdefghij', 6, 'start')).toBe('…fghij');
    expect(cut('abcdefghij', 6, 'middle')).toBe('abc…ij');
    expect(cut('abcdefghij', 6, 'none')).toBe('abcdef');
    expect(cut('abc', 6, 'end')).toBe('abc');
  });

  it('shrinks to the terminal width on a TTY, never below minimum widths', () => {
    const cols = fields.filter((f) => !f.hidden).map(columnFor);
    const fitted = fitColumns(cols, 40);
    expect(fitted.reduce((s, c) => s + c.width, 0) + fitted.length - 1).toBe(40);
    expect(fitted.map((c) => c.width)).toEqual([8, 7, 9, 3, 9]);
    expect(renderHeader(fitted)).toBe('K8S.POD…     PID COMM       FD FNAME');
    const tiny = fitColumns(cols, 10);
    for (const c of tiny) expect(c.width).toBeGreaterThanOrEqual(c.minWidth);
    expect(renderRow(fitted, { 'k8s.podName': 'p', pid: 7, comm: 'systemd-journald', fd: 1, fname: '/a/b/c/d/e/f' })).toBe(
      'p              7 systemd-…   1 /a/b/c/d…',
    );
  });

  it('is unlimited when not a TTY', () => {
    const out = new Capture({ tty: false, columns: 20 });
    const sink = eventSink('columns', { stream: out, allFields: fields });
    expect(sink.columns.map((c) => c.width)).toEqual([12, 7, 16, 3, 20]);
  });

  it('truncates headers longer than their column', () => {
    const c = columnFor({ name: 'k8s.containerName', kind: 'string' });
    expect(c.width).toBe(17);
    const n = columnFor({ name: 'error', kind: 'string', width: 2 });
    expect(renderHeader([n])).toBe('E…');
  });

  it('redraws snapshot tables on a TTY and prints them one after another otherwise', () => {
    const f = [fields[1]!, fields[2]!];
    const tty = new Capture({ tty: true, columns: 80 });
    const s1 = eventSink('columns', { stream: tty, fields: f });
    s1.write({ datasource: 't', snapshot: true, events: [{ pid: 1, comm: 'a' }] });
    s1.write({ datasource: 't', snapshot: true, events: [{ pid: 2, comm: 'b' }] });
    expect(tty.text).toBe('\x1b[H\x1b[2J    PID COMM\n      1 a\n\x1b[H\x1b[2J    PID COMM\n      2 b\n');
    const plain = new Capture();
    const s2 = eventSink('columns', { stream: plain, fields: f });
    s2.write({ datasource: 't', snapshot: true, events: [{ pid: 1, comm: 'a' }] });
    s2.write({ datasource: 't', snapshot: true, events: [] });
    expect(plain.text).toBe('    PID COMM\n      1 a\n\n    PID COMM\n');
  });

  it('cuts nothing when the output is not a terminal: a long value pushes the rest of its row (IG PR 2451)', async () => {
    const out = new Capture({ tty: false });
    const sink = eventSink('columns', { stream: out, allFields: fields });
    sink.write({ datasource: 'open', events: [{ 'k8s.podName': 'a-very-long-pod-name', pid: 1, comm: 'systemd-journald', fd: 12, fname: '/var/log/journal/' + 'x'.repeat(30) }] });
    await sink.end();
    expect(out.text).toBe(`K8S.PODNAME      PID COMM              FD FNAME\na-very-long-pod-name       1 systemd-journald  12 /var/log/journal/${'x'.repeat(30)}\n`);
  });

  it('keeps rows on one line and counts wide characters (emoji, CJK) as two cells', () => {
    const cols = [columnFor({ name: 'a', kind: 'string', width: 6 }), columnFor({ name: 'b', kind: 'string', width: 3 })];
    expect(renderRow(cols, { a: 'x\ny\tz', b: 'k' })).toBe('x y z  k');
    expect(renderRow(cols, { a: '🙂🙂', b: 'k' })).toBe('🙂🙂   k');
    expect(renderRow(cols, { a: '🙂🙂🙂🙂🙂🙂🙂', b: 'k' })).toBe('🙂🙂…  k');
    expect(renderRow(cols, { a: '日本語', b: 'k' })).toBe('日本語 k');
    expect(renderRow(cols, { a: '日本語です', b: 'k' })).toBe('日本…  k'); // 5 cells in 6
    expect(renderRow(cols, { a: 'é', b: 'k' })).toBe('é      k'); // e + combining acute: one cell
  });

  it('never cuts numbers and takes templates from gadget_* types', () => {
    const ns = columnFor({ name: 'mntns_id', kind: 'bigint' });
    expect(ns.width).toBe(8);
    expect(renderRow([ns, columnFor({ name: 'c', kind: 'string', width: 1 })], { mntns_id: 4026531840n, c: 'x' })).toBe(
      '4026531840 x',
    );
    const typed = columnFor({ name: 'mntns_id', kind: 'bigint', typeName: 'gadget_mntns_id' });
    expect([typed.width, typed.alignment]).toEqual([12, 'right']);
    expect(columnFor({ name: 'who', kind: 'string', typeName: 'gadget_comm' }).width).toBe(16);
  });

  it('renders arrays, bigints, booleans and missing values', () => {
    const cols = [
      columnFor({ name: 'a', kind: 'array', width: 6 }),
      columnFor({ name: 'b', kind: 'bigint', width: 22 }),
      columnFor({ name: 'c', kind: 'bool', width: 5 }),
      columnFor({ name: 'd', kind: 'string', width: 3 }),
    ];
    expect(renderRow(cols, { a: [1, 2], b: 18446744073709551615n, c: true })).toBe('1,2      18446744073709551615 true');
  });
});
