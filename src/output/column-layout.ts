/**
 * How a column looks, as IG prints it: an UPPERCASE header, a width from the field's annotations
 * (`columns.width`, `minwidth`, `maxwidth`, `alignment`, `ellipsis`) or its `template`, values
 * cut with `…` where the field's `ellipsis` says — on a terminal only: into a file or a pipe
 * nothing is cut (IG's PR 2451 for issue 2330), a longer value overflows its column as numbers
 * do. Widths are display widths: an East Asian wide character (CJK, most emoji) takes two
 * cells, a combining mark none (get-east-asian-width). Shared by the columns sink and its row
 * writer, so both give the same bytes.
 */
import { eastAsianWidth } from 'get-east-asian-width';
import type { Event, FieldDesc } from '../model/field.js';

interface ColumnTemplate {
  width: number;
  minWidth?: number;
  maxWidth?: number;
  alignment?: 'left' | 'right';
  ellipsis?: 'end' | 'start' | 'middle' | 'none';
}

/** Defaults for gadget.yaml `template` values (as IG's column templates). */
const TEMPLATES: Record<string, ColumnTemplate> = {
  comm: { width: 16, maxWidth: 16, alignment: 'left' },
  pcomm: { width: 16, maxWidth: 16, alignment: 'left' },
  pid: { width: 7, minWidth: 7, alignment: 'right' },
  ppid: { width: 7, minWidth: 7, alignment: 'right' },
  tid: { width: 7, minWidth: 7, alignment: 'right' },
  uid: { width: 8, minWidth: 8, alignment: 'right' },
  gid: { width: 8, minWidth: 8, alignment: 'right' },
  ns: { width: 12, alignment: 'right' },
  timestamp: { width: 35, maxWidth: 35, alignment: 'left' },
  node: { width: 30, ellipsis: 'middle' },
  namespace: { width: 30 },
  pod: { width: 30, ellipsis: 'middle' },
  container: { width: 30 },
  containerImageName: { width: 30 },
  syscall: { width: 18, maxWidth: 28 },
  errorString: { width: 10, alignment: 'left' },
  signal: { width: 9, alignment: 'left' },
  ipaddr: { width: 16, minWidth: 15, maxWidth: 39 },
  ipport: { width: 7, minWidth: 5, alignment: 'right' },
  l4endpoint: { width: 22, minWidth: 21, maxWidth: 45 },
  bytes: { width: 10, alignment: 'right' },
  duration: { width: 10, alignment: 'right' },
};

/** Template implied by a gadget_* type when gadget.yaml gives none. */
const TYPE_TEMPLATES: Record<string, string> = {
  gadget_comm: 'comm',
  gadget_pcomm: 'pcomm',
  gadget_pid: 'pid',
  gadget_ppid: 'ppid',
  gadget_tid: 'tid',
  gadget_uid: 'uid',
  gadget_gid: 'gid',
  gadget_mntns_id: 'ns',
  gadget_netns_id: 'ns',
  gadget_pidns_id: 'ns',
  gadget_ns_pid: 'pid',
  gadget_ns_tid: 'tid',
  gadget_ns_ppid: 'ppid',
  gadget_timestamp: 'timestamp',
  gadget_errno: 'errorString',
  gadget_signal: 'signal',
  gadget_syscall: 'syscall',
  gadget_l4endpoint_t: 'l4endpoint',
  gadget_l3endpoint_t: 'ipaddr',
  gadget_bytes: 'bytes',
  gadget_duration: 'duration',
};

export interface Column {
  field: FieldDesc;
  header: string;
  width: number;
  minWidth: number;
  alignment: 'left' | 'right';
  ellipsis: 'end' | 'start' | 'middle' | 'none';
  /** numbers are never cut (a cut number is a wrong number): they overflow their column instead */
  numeric: boolean;
  /** cut values longer than the column (on a terminal); false: let them overflow */
  truncate: boolean;
}

export function columnFor(f: FieldDesc): Column {
  const tname = f.template ?? (f.typeName ? TYPE_TEMPLATES[f.typeName] : undefined);
  const t = tname ? TEMPLATES[tname] : undefined;
  const numeric = f.kind === 'number' || f.kind === 'bigint';
  const header = (f.alias ?? f.name).toUpperCase();
  let width = f.width ?? t?.width ?? Math.max(header.length, numeric ? 7 : 16);
  const maxWidth = f.maxWidth ?? t?.maxWidth;
  const minWidth = Math.min(f.minWidth ?? t?.minWidth ?? Math.min(width, Math.max(4, Math.min(header.length, 8))), width);
  if (maxWidth !== undefined && width > maxWidth) width = maxWidth;
  if (width < minWidth) width = minWidth;
  return {
    field: f,
    header,
    width: Math.max(1, width),
    minWidth: Math.max(1, minWidth),
    alignment: f.alignment ?? t?.alignment ?? (numeric ? 'right' : 'left'),
    ellipsis: f.ellipsis ?? t?.ellipsis ?? 'end',
    numeric,
    truncate: true,
  };
}

/** Shrink columns (widest first, never below their minimum) until the line fits in `termWidth`. */
export function fitColumns(cols: Column[], termWidth: number | undefined): Column[] {
  const out = cols.map((c) => ({ ...c }));
  if (!termWidth || termWidth <= 0) return out;
  const total = (): number => out.reduce((s, c) => s + c.width, 0) + Math.max(0, out.length - 1);
  let excess = total() - termWidth;
  while (excess > 0) {
    let widest: Column | undefined;
    for (const c of out) if (c.width > c.minWidth && (!widest || c.width > widest.width)) widest = c;
    if (!widest) break;
    widest.width--;
    excess--;
  }
  return out;
}

function chars(s: string): string[] {
  return Array.from(s);
}

/** Not plain printable ASCII: its display width must be counted per code point. */
const WIDE_OR_ODD = /[^\u0020-\u007e]/;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\u200b-\u200f\u2060\ufeff]$/u;

function charWidth(c: string): number {
  const cp = c.codePointAt(0)!;
  if (cp < 0x7f) return 1;
  if (ZERO_WIDTH.test(c)) return 0;
  return eastAsianWidth(cp);
}

/** Display width in terminal cells. */
export function textWidth(s: string): number {
  if (!WIDE_OR_ODD.test(s)) return s.length;
  let n = 0;
  for (const c of s) n += charWidth(c);
  return n;
}

/** The longest head (or tail) of `cs` that fits in `width` cells. */
function fitHead(cs: string[], width: number): string {
  let n = 0;
  let i = 0;
  for (; i < cs.length; i++) {
    const w = charWidth(cs[i]!);
    if (n + w > width) break;
    n += w;
  }
  return cs.slice(0, i).join('');
}

function fitTail(cs: string[], width: number): string {
  let n = 0;
  let i = cs.length;
  for (; i > 0; i--) {
    const w = charWidth(cs[i - 1]!);
    if (n + w > width) break;
    n += w;
  }
  return cs.slice(i).join('');
}

/** Fit a value into `width` cells, cutting with `…` per `ellipsis`. */
export function cut(s: string, width: number, ellipsis: Column['ellipsis']): string {
  if (s.length <= width && !WIDE_OR_ODD.test(s)) return s;
  if (textWidth(s) <= width) return s;
  const cs = chars(s);
  if (ellipsis === 'none' || width <= 1) return fitHead(cs, width);
  switch (ellipsis) {
    case 'start':
      return '…' + fitTail(cs, width - 1);
    case 'middle': {
      const head = Math.ceil((width - 1) / 2);
      const tail = width - 1 - head;
      return fitHead(cs, head) + '…' + (tail > 0 ? fitTail(cs, tail) : '');
    }
    default:
      return fitHead(cs, width - 1) + '…';
  }
}

const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROL_G = /[\u0000-\u001f\u007f]/g;

/** Text of a value in a column (control characters become spaces so a row stays one line). */
export function cellText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return CONTROL.test(v) ? v.replace(CONTROL_G, ' ') : v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(cellText).join(',');
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>).join(',');
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

function pad(s: string, width: number, alignment: 'left' | 'right', last: boolean): string {
  const n = textWidth(s);
  if (n >= width) return s;
  if (alignment === 'right') return ' '.repeat(width - n) + s;
  return last ? s : s + ' '.repeat(width - n);
}

/** A value's text as its column shows it: cut to the width, unless it is a number or cutting is off. */
export function cellOf(text: string, c: Column): string {
  return c.numeric || !c.truncate ? text : cut(text, c.width, c.ellipsis);
}

/** A cell's text padded to its column (the last column is not padded on the right). */
export function padCell(s: string, c: Column, last: boolean): string {
  return pad(s, c.width, c.alignment, last);
}

/** A row's trailing blanks go (when its last cells are empty). */
function trimSpaces(line: string): string {
  let e = line.length;
  while (e > 0 && line.charCodeAt(e - 1) === 32) e--;
  return e === line.length ? line : line.slice(0, e);
}

export function renderHeader(cols: readonly Column[]): string {
  return cols
    .map((c, i) => pad(c.truncate ? cut(c.header, c.width, 'end') : c.header, c.width, c.alignment, i === cols.length - 1))
    .join(' ')
    .trimEnd();
}

export function renderRow(cols: readonly Column[], e: Event): string {
  let line = '';
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i]!;
    if (i > 0) line += ' ';
    const text = cellText(e[c.field.name]);
    line += pad(cellOf(text, c), c.width, c.alignment, i === cols.length - 1);
  }
  // no trailing blanks when the last cells are empty
  return trimSpaces(line);
}

