/**
 * JSON lines written straight from record bytes. For a layout and a field list, one function is
 * generated that appends a record's JSON object to a Buffer: keys and punctuation are stored
 * byte by byte as constants, integers are written digit by digit, C strings are copied byte by
 * byte, and only values that need a JS value (formatted timestamps, enum names, arrays) build one.
 * No event object, no per-event string concatenation: the fast path of `-o json` when no operator
 * needs the events as objects (see cli/run/direct.ts).
 *
 * The text is the same, byte for byte, as JsonSink's serializer over the decoded event.
 */
import type { CompiledLayout, FieldCode } from '../btf/decoder.js';
import { HELPERS } from '../btf/decoder.js';
import { formatTimestamp, splitBootNumber, wallSecond } from '../format/timestamp.js';
import { buildTree, encodeValue, type Node } from './json.js';

/** Appends one record's JSON object (no newline) to `b` at `p`; returns the end. `x`: external values. */
export type RecordWriter = (dv: DataView, u8: Buffer, o: number, b: Buffer, p: number, x: readonly Buffer[] | undefined) => number;

export interface CompiledRecordWriter {
  write: RecordWriter;
  /** bytes one record can take at most (keys, values, braces) */
  maxBytes: number;
  source: string;
}

/** A value whose JSON length is not known in advance (formatted text, enum names) may take this much. */
export const TEXT_BOUND = 4096;

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
  if (s.length * 3 > b.length - p) throw new Error(`a JSON value of ${s.length} characters exceeds the output buffer`);
  return p + b.write(s, p, 'utf8');
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
  if (e.length > b.length - p) throw new Error(`a JSON value of ${e.length} bytes exceeds the output buffer`);
  return bytes(b, p, e);
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

const W = { int, num, str, cstr, text, copy, formatted, timestamp };

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
    case 'timestamp': return `p = W.timestamp(b, p, ${c.write.raw});`;
    case 'int': return `p = W.int(b, p, ${c.expr});`;
    case 'u64': return `p = W.num(b, p, ${c.expr});`;
    case 'cstr': return `p = W.cstr(b, p, u8, ${c.write.at}, ${c.write.size});`;
    case 'string': return `p = W.str(b, p, ${c.expr});`;
    case 'value': return `p = W.text(b, p, enc(${c.expr}));`;
  }
}

/**
 * Compile the writer for `fieldNames` (in this order, re-nested on dots as JsonSink does). Names
 * the layout does not have are external: their encoded values come in `x`, in `external` order.
 */
export function compileRecordWriter(layout: CompiledLayout, fieldNames: readonly string[], external: readonly string[] = []): CompiledRecordWriter {
  const codes = new Map(layout.codes.map((c) => [c.name, c]));
  const stmts: string[] = [];
  let maxBytes = 1;
  let pending = ''; // constant text not yet stored
  let caches = 0;
  const cacheRef = () => `M[${caches++}]`;
  const flushConst = () => {
    if (pending) stmts.push(constBytes(pending));
    maxBytes += Buffer.byteLength(pending);
    pending = '';
  };
  const emit = (nodes: Node[]) => {
    pending += '{';
    nodes.forEach((n, i) => {
      pending += (i ? ',' : '') + JSON.stringify(n.key) + ':';
      if (n.children) return emit(n.children);
      flushConst();
      const c = codes.get(n.field!);
      if (c) {
        stmts.push(writeStmt(c, cacheRef));
        maxBytes += c.maxJson ?? TEXT_BOUND;
        return;
      }
      const k = external.indexOf(n.field!);
      if (k < 0) throw new Error(`field "${n.field}" is neither in the record nor external`);
      stmts.push(`p = W.copy(b, p, x[${k}]);`);
      maxBytes += TEXT_BOUND;
    });
    pending += '}';
  };
  emit(buildTree(fieldNames));
  flushConst();
  const source = stmts.join('\n');
  const M = Array.from({ length: caches }, () => new Map<unknown, Buffer>());
  const factory = new Function('H', 'C', 'W', 'enc', 'M', `return function writeRecord(dv, u8, o, b, p, x) {\n${source}\nreturn p;\n};`);
  return { write: factory(HELPERS, layout.consts, W, encodeValue, M) as RecordWriter, maxBytes, source };
}
