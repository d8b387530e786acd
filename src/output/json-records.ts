/**
 * JSON lines written straight from record bytes: the one JSON writer of every path (the CLI's
 * stdout, the daemon's stream). For a datasource and a field list, one function is generated
 * that appends a record's JSON object to a Buffer: keys and punctuation are stored byte by byte
 * as constants, integers are written digit by digit, C strings are copied byte by byte, values
 * derived from another (formatted errno, flags, a container's fields) are kept encoded per source
 * value, and only values that need a JS value (arrays, escapes) build one. No event object, no
 * per-event string concatenation.
 *
 * The text is the same, byte for byte, as JSON.stringify-style serialization of the decoded event
 * (see json.ts `compileSerializer`).
 */
import type { FieldCode } from '../btf/decoder.js';
import { HELPERS } from '../btf/decoder.js';
import type { RunDataSource } from '../datasource/datasource.js';
import type { RunField } from '../datasource/field.js';
import { formatTimestamp, splitBootNumber, wallSecond } from '../format/timestamp.js';
import { buildTree, encodeValue, type Node } from './json-text.js';
import { Overflow } from './bytes.js';

/** Appends record `r`'s JSON object (no newline) to `b` at `p`; returns the end. Throws `Overflow` when `b` has too little room. */
type RecordWriter = (dv: DataView, u8: Buffer, o: number, X: unknown[][], r: number, b: Buffer, p: number) => number;

export interface CompiledRecordWriter {
  write: RecordWriter;
  /** bytes one record takes at most, values of unknown length counted as TEXT_BOUND */
  maxBytes: number;
  /** forget the encodings kept per value (the datasource's derived values changed meaning) */
  clear(): void;
  source: string;
}

/** A value whose JSON length is not known in advance (formatted text, enum names) may take this much. */
const TEXT_BOUND = 4096;

// ---- writers the generated code calls as W.x; each returns the new end ----

/** A non-negative integer below 2^53, in int32 arithmetic: most values (pids, ids, flags) fit one. */
function uint(b: Buffer, p: number, v: number): number {
  if (v >= 0x80000000) {
    // the top digits (< 2^31 for v < 2^53), then the low 8 digits zero-padded
    const hi = Math.floor(v / 1e8);
    let lo = v - hi * 1e8;
    p = uint(b, p, hi);
    for (let i = p + 7; i >= p; i--) {
      const t = (lo / 10) | 0;
      b[i] = 48 + lo - t * 10;
      lo = t;
    }
    return p + 8;
  }
  let len = 1;
  for (let t = (v / 10) | 0; t > 0; t = (t / 10) | 0) len++;
  let q = p + len;
  do {
    const t = (v / 10) | 0;
    b[--q] = 48 + v - t * 10;
    v = t;
  } while (v > 0);
  return p + len;
}
/** An integer read of up to 32 bits. */
function int(b: Buffer, p: number, v: number): number {
  if (v < 0) {
    b[p++] = 45;
    v = -v;
  }
  return uint(b, p, v);
}
/** A number or a bigint (as H.u64/H.s64 give), as encodeValue writes it. */
function num(b: Buffer, p: number, v: number | bigint): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return int(b, p, v);
  return ascii(b, p, encodeValue(v));
}
/** Text known to be ASCII (JSON numbers, encoded values of ASCII). */
function ascii(b: Buffer, p: number, s: string): number {
  return p + b.write(s, p, 'latin1');
}
/** Already-encoded JSON text of any characters. */
function text(b: Buffer, p: number, s: string): number {
  if (s.length * 3 > b.length - p) throw new Overflow(s.length * 3);
  return p + b.write(s, p, 'utf8');
}
/** Any JS value (an added field's), with the fast paths of the common ones. */
function value(b: Buffer, p: number, v: unknown): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return int(b, p, v);
  if (typeof v === 'string') return str(b, p, v);
  return text(b, p, encodeValue(v));
}
/** 1 for the characters copied into the output as they are: where JSON strings may hold a byte unescaped (printable ASCII but `"` and `\`). */
const PLAIN = new Uint8Array(256);
for (let c = 0x20; c < 0x7f; c++) PLAIN[c] = c === 34 || c === 92 ? 0 : 1;

/** A JS string as a JSON string: printable ASCII is copied, anything else goes through encodeValue. */
function str(b: Buffer, p: number, s: string): number {
  const n = s.length;
  if (n > TEXT_BOUND / 2) return text(b, p, encodeValue(s));
  b[p] = 34;
  let q = p + 1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (PLAIN[c] !== 1) return text(b, p, encodeValue(s));
    b[q++] = c;
  }
  b[q] = 34;
  return q + 1;
}
/** A NUL-terminated char array of `n` bytes at `s`, as H.str + encodeValue would write it. */
function cstr(b: Buffer, p: number, u8: Buffer, s: number, n: number): number {
  b[p] = 34;
  let q = p + 1;
  const end = s + n;
  for (let i = s; i < end; i++) {
    const c = u8[i]!;
    if (c === 0) break;
    // non-ASCII: UTF-8 decoding (invalid bytes become U+FFFD) is the decoder's to do
    if (PLAIN[c] !== 1) return text(b, p, encodeValue(HELPERS.str(u8, s, n)));
    b[q++] = c;
  }
  b[q] = 34;
  return q + 1;
}
function bytes(b: Buffer, p: number, x: Uint8Array): number {
  const n = x.length;
  for (let i = 0; i < n; i++) b[p + i] = x[i]!;
  return p + n;
}
function copy(b: Buffer, p: number, x: Buffer): number {
  if (x.length > b.length - p) throw new Overflow(x.length);
  return x.length < 64 ? bytes(b, p, x) : p + x.copy(b, p);
}

/** Encoded texts kept per formatted field: a formatter's text depends on the value only. */
const CACHE_LIMIT = 4096;
function formatted(b: Buffer, p: number, cache: Map<unknown, Buffer>, fmt: (v: unknown) => string, raw: unknown): number {
  let e = cache.get(raw);
  if (e === undefined) {
    e = Buffer.from(encodeValue(fmt(raw)));
    if (cache.size < CACHE_LIMIT) cache.set(raw, e);
  }
  if (e.length > b.length - p) throw new Overflow(e.length);
  return bytes(b, p, e);
}

/** The encoded values of every derived field reading the same source, kept per source value. */
function group(cache: Map<unknown, Buffer[]>, encode: (v: unknown) => Buffer[], v: unknown): Buffer[] {
  let e = cache.get(v);
  if (e === undefined) {
    e = encode(v);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(v, e);
  }
  return e;
}

/** gadget_timestamp: the second's text (kept as bytes while the second lasts) around 9 digits. */
let tsSec = NaN;
let tsBefore = Buffer.alloc(0);
let tsAfter = Buffer.alloc(0);
function timestamp(b: Buffer, p: number, raw: number | bigint): number {
  if (typeof raw !== 'number' || raw === 0 || !Number.isSafeInteger(raw)) return str(b, p, formatTimestamp(raw));
  let ns = splitBootNumber(raw);
  if (wallSecond.sec !== tsSec) {
    tsSec = wallSecond.sec;
    tsBefore = Buffer.from(`"${wallSecond.prefix}`, 'latin1');
    tsAfter = Buffer.from(`${wallSecond.suffix}"`, 'latin1');
  }
  p = bytes(b, p, tsBefore);
  for (let i = p + 8; i >= p; i--) {
    const t = (ns / 10) | 0;
    b[i] = 48 + ns - t * 10;
    ns = t;
  }
  return bytes(b, p + 9, tsAfter);
}

const W = { int, num, str, cstr, text, value, copy, formatted, timestamp, group };

/** Statements storing constant ASCII text byte by byte (keys, `{`, `,`). */
function constBytes(s: string): string {
  const bytes = Buffer.from(s, 'utf8');
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i++) parts.push(`b[p${i ? ' + ' + i : ''}] = ${bytes[i]};`);
  return `${parts.join(' ')} p += ${bytes.length};`;
}

function writeStmt(c: FieldCode, cacheRef: () => string): string {
  switch (c.write.as) {
    case 'formatted': return `p = W.formatted(b, p, ${cacheRef()}, ${c.write.fmt}, ${c.write.raw});`;
    case 'int': return `p = W.int(b, p, ${c.expr});`;
    case 'u64': return `p = W.num(b, p, ${c.expr});`;
    case 'cstr': return `p = W.cstr(b, p, u8, ${c.write.at}, ${c.write.size});`;
    case 'string': return `p = W.str(b, p, ${c.expr});`;
    case 'value': return `p = W.text(b, p, enc(${c.expr}));`;
  }
}

/** Where derived fields' values come from, as a key: fields reading the same source share one cache lookup. */
function sourceKey(f: RunField): string {
  const s = f.source;
  return s.type === 'derived' ? (typeof s.from === 'string' ? s.from : `#${s.from.slot}`) : '';
}

/**
 * Compile the writer for `fieldNames` of `ds` (in this order, re-nested on dots as JsonSink
 * does). Derived fields reading the same source are encoded together, once per source value.
 */
export function compileJsonWriter(ds: RunDataSource, fieldNames: readonly string[]): CompiledRecordWriter {
  const fields = fieldNames.map((n) => ds.require(n));
  const stmts: string[] = [];
  let maxBytes = 1;
  let pending = ''; // constant text not yet stored
  const caches: Map<unknown, unknown>[] = [];
  const cacheRef = () => `M[${caches.push(new Map()) - 1}]`;
  // derived fields by source: one encoder per source, writing all of its selected fields
  const groups = new Map<string, { id: number; members: RunField[]; declared: boolean }>();
  const encoders: ((v: unknown) => Buffer[])[] = [];
  for (const f of fields) {
    if (f.source.type !== 'derived' || f.source.special === 'timestamp') continue;
    const key = sourceKey(f);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { id: groups.size, members: [], declared: false }));
    g.members.push(f);
  }
  for (const g of groups.values()) {
    const fns = g.members.map((m) => ds.derivedFn(m));
    encoders[g.id] = (v) => fns.map((fn) => Buffer.from(encodeValue(fn(v))));
  }
  const flushConst = () => {
    if (pending) stmts.push(constBytes(pending));
    maxBytes += Buffer.byteLength(pending);
    pending = '';
  };
  const write = (f: RunField) => {
    const s = f.source;
    if (s.type === 'static') {
      stmts.push(writeStmt(s.code, cacheRef));
      maxBytes += s.code.maxJson ?? TEXT_BOUND;
      return;
    }
    maxBytes += TEXT_BOUND;
    if (s.type === 'column') {
      stmts.push(`p = W.value(b, p, ${ds.expr(f)});`);
      return;
    }
    if (s.special === 'timestamp') {
      stmts.push(`p = W.timestamp(b, p, ${ds.sourceExpr(f)});`);
      return;
    }
    const g = groups.get(sourceKey(f))!;
    if (!g.declared) {
      stmts.push(`const g${g.id} = W.group(${cacheRef()}, E[${g.id}], ${ds.sourceExpr(f)});`);
      g.declared = true;
    }
    stmts.push(`p = W.copy(b, p, g${g.id}[${g.members.indexOf(f)}]);`);
  };
  const emit = (nodes: Node[]) => {
    pending += '{';
    nodes.forEach((n, i) => {
      pending += (i ? ',' : '') + JSON.stringify(n.key) + ':';
      if (n.children) return emit(n.children);
      flushConst();
      write(fields[fieldNames.indexOf(n.field!)]!);
    });
    pending += '}';
  };
  emit(buildTree(fieldNames));
  flushConst();
  const source = stmts.join('\n');
  const fn = ds.compile<RecordWriter>('dv, u8, o, X, r, b, p', `${source}\nreturn p;`, { W, enc: encodeValue, M: caches, E: encoders });
  return { write: fn, maxBytes, source, clear: () => caches.forEach((c) => c.clear()) };
}
