/**
 * Column rows written straight into the output buffer, as json-records.ts does for JSON: one
 * function generated per datasource and column layout. Integers are written digit by digit and
 * padded, plain C strings are copied byte by byte, values derived from another (an errno's
 * name, a container's name) are kept as finished cells per source value; anything else takes
 * the string path of columns.ts (`cellText`, `cut`, padding), so the text is the same as
 * `renderRow` gives for the decoded event.
 */
import { HELPERS } from '../btf/decoder.js';
import type { RunDataSource } from '../datasource/datasource.js';
import type { RunField } from '../datasource/field.js';
import { cellOf, cellText, padCell, type Column } from './column-layout.js';
import { Overflow } from './bytes.js';

/** Padding: a byte loop (Buffer.copy costs more than a few stores for the short runs columns need). */
function spaces(b: Buffer, p: number, n: number): number {
  for (let i = 0; i < n; i++) b[p++] = 32;
  return p;
}

function room(b: Buffer, p: number, need: number): void {
  if (need > b.length - p) throw new Overflow(need);
}

/** A cell of any value, through the string path. */
function val(b: Buffer, p: number, v: unknown, c: Column, last: boolean): number {
  const text = cellText(v);
  const cell = padCell(cellOf(text, c), c, last);
  room(b, p, cell.length * 3);
  return p + b.write(cell, p, 'utf8');
}

/** Decimal digits of `u` (0 ≤ u < 2^53) ending at `q` (exclusive); int32 arithmetic where it fits. */
function digits(b: Buffer, q: number, u: number): void {
  while (u >= 0x80000000) {
    const t = Math.floor(u / 10);
    b[--q] = 48 + u - t * 10;
    u = t;
  }
  do {
    const t = (u / 10) | 0;
    b[--q] = 48 + u - t * 10;
    u = t;
  } while (u > 0);
}

/** An integer cell (numbers are never cut). */
function num(b: Buffer, p: number, v: number | bigint, c: Column, last: boolean): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) return val(b, p, v, c, last);
  const u = v < 0 ? -v : v;
  let len = v < 0 ? 2 : 1;
  for (let t = u >= 0x80000000 ? Math.floor(u / 10) : (u / 10) | 0; t > 0; t = t >= 0x80000000 ? Math.floor(t / 10) : (t / 10) | 0) len++;
  const pad = c.width > len ? c.width - len : 0;
  room(b, p, len + pad);
  if (c.alignment === 'right') p = spaces(b, p, pad);
  digits(b, p + len, u);
  if (v < 0) b[p] = 45;
  p += len;
  return c.alignment === 'left' && !last ? spaces(b, p, pad) : p;
}

/** `…` in UTF-8 */
const ELLIPSIS = [0xe2, 0x80, 0xa6];

/** Printable ASCII `u8[s, e)` too long for its column, cut as column-layout.ts `cut` would (one byte = one character). */
function cutAscii(b: Buffer, p: number, u8: Buffer, s: number, e: number, c: Column, last: boolean): number {
  const w = c.width;
  room(b, p, w + 2);
  const dots = () => {
    b[p++] = ELLIPSIS[0]!;
    b[p++] = ELLIPSIS[1]!;
    b[p++] = ELLIPSIS[2]!;
  };
  const copy = (from: number, n: number) => {
    for (let i = 0; i < n; i++) b[p++] = u8[from + i]!;
  };
  if (c.ellipsis === 'none' || w <= 1) copy(s, w);
  else if (c.ellipsis === 'start') {
    dots();
    copy(e - (w - 1), w - 1);
  } else if (c.ellipsis === 'middle') {
    const head = Math.ceil((w - 1) / 2);
    const tail = w - 1 - head;
    copy(s, head);
    dots();
    copy(e - tail, tail);
  } else {
    copy(s, w - 1);
    dots();
  }
  return p; // exactly the column's width: no padding
}

/** A NUL-terminated char array: copied as it is when it is printable ASCII and fits its column. */
function cstr(b: Buffer, p: number, u8: Buffer, s: number, n: number, c: Column, last: boolean): number {
  const end = s + n;
  let e = s;
  for (; e < end; e++) {
    const x = u8[e]!;
    if (x === 0) break;
    if (x < 0x20 || x > 0x7e) return val(b, p, HELPERS.str(u8, s, n), c, last);
  }
  const len = e - s;
  if (len > c.width && c.truncate) return cutAscii(b, p, u8, s, e, c, last);
  const pad = len < c.width ? c.width - len : 0;
  room(b, p, len + pad);
  if (c.alignment === 'right') p = spaces(b, p, pad);
  for (let i = s; i < e; i++) b[p++] = u8[i]!;
  return c.alignment === 'left' && !last ? spaces(b, p, pad) : p;
}

const CACHE_LIMIT = 4096;

/** A cell whose text depends on one value only: kept, finished, per value. */
function cached(b: Buffer, p: number, cache: Map<unknown, Buffer>, make: (v: unknown) => Buffer, v: unknown): number {
  let e = cache.get(v);
  if (e === undefined) {
    e = make(v);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(v, e);
  }
  room(b, p, e.length);
  return p + e.copy(b, p);
}

const R = { val, num, cstr, cached };

export interface CompiledRowWriter {
  write: (dv: DataView, u8: Buffer, o: number, X: unknown[][], r: number, b: Buffer, p: number) => number;
  /** bytes a row takes at most, values of unknown length counted as 4 KiB */
  maxBytes: number;
  clear(): void;
}

/** Compile the row writer for these columns (their fields are `ds`'s). */
export function compileRowWriter(ds: RunDataSource, cols: readonly Column[]): CompiledRowWriter {
  const stmts: string[] = [];
  const caches: Map<unknown, Buffer>[] = [];
  const makers: ((v: unknown) => Buffer)[] = [];
  let maxBytes = 0;
  const cachedCell = (i: number, last: boolean, fn: (v: unknown) => unknown, src: string) => {
    const c = cols[i]!;
    makers.push((v) => Buffer.from(padCell(cellOf(cellText(fn(v)), c), c, last)));
    caches.push(new Map());
    return `p = R.cached(b, p, M[${caches.length - 1}], F[${makers.length - 1}], ${src});`;
  };
  cols.forEach((c, i) => {
    const last = i === cols.length - 1;
    if (i > 0) stmts.push('b[p++] = 32;');
    const f = ds.require(c.field.name) as RunField;
    const s = f.source;
    const args = `K[${i}], ${last}`;
    maxBytes += Math.max(c.width, 64) * 3 + 1;
    if (s.type === 'static') {
      const w = s.code.write;
      if ((w.as === 'int' || w.as === 'u64') && c.numeric) stmts.push(`p = R.num(b, p, ${s.code.expr}, ${args});`);
      else if (w.as === 'cstr') stmts.push(`p = R.cstr(b, p, u8, ${w.at}, ${w.size}, ${args});`);
      else if (w.as === 'formatted') {
        const fmt = ds.compile<(v: unknown) => unknown>('v', `return ${w.fmt}(v);`);
        stmts.push(cachedCell(i, last, fmt, w.raw));
      } else stmts.push(`p = R.val(b, p, ${s.code.expr}, ${args});`);
    } else if (s.type === 'derived' && s.special !== 'timestamp') {
      stmts.push(cachedCell(i, last, ds.derivedFn(f), ds.sourceExpr(f)));
    } else {
      stmts.push(`p = R.val(b, p, ${ds.expr(f)}, ${args});`);
    }
  });
  const write = ds.compile<CompiledRowWriter['write']>('dv, u8, o, X, r, b, p', `${stmts.join('\n')}\nreturn p;`, { R, K: cols, M: caches, F: makers });
  return { write, maxBytes, clear: () => caches.forEach((m) => m.clear()) };
}
