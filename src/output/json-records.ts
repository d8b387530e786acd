/**
 * JSON lines written straight from record bytes: the one JSON writer of every path (the CLI's
 * stdout, the daemon's stream). For a datasource and a field list, one function is generated
 * that appends a record's JSON object to a Buffer: keys and punctuation are stored byte by byte
 * as constants, integers are written two digits at a time, C strings are copied byte by byte,
 * values derived from another (formatted errno, flags, a container's fields) are kept encoded per
 * source value together with the keys between them (spans, one memmove per record), a run of
 * integer fields is copied from the record before when its bytes are the same, and only values
 * that need a JS value (arrays, escapes) build one. No event object, no per-event string
 * concatenation. (bench/README.md, "The tight loop, round four".)
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

/** "00" … "99": two digits per division. */
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = 48 + ((i / 10) | 0);
  PAIRS[2 * i + 1] = 48 + (i % 10);
}

/** Digits of `v` (< 2^31) ending just before `q`, two at a time. */
function digitsBefore(b: Buffer, q: number, v: number): void {
  while (v >= 100) {
    const t = (v / 100) | 0;
    const d = (v - t * 100) << 1;
    b[--q] = PAIRS[d + 1]!;
    b[--q] = PAIRS[d]!;
    v = t;
  }
  if (v >= 10) {
    b[--q] = PAIRS[(v << 1) + 1]!;
    b[--q] = PAIRS[v << 1]!;
  } else b[--q] = 48 + v;
}

/** A non-negative integer below 2^53, in int32 arithmetic: most values (pids, ids, flags) fit one. */
function uint(b: Buffer, p: number, v: number): number {
  if (v >= 0x80000000) {
    // the top digits (< 2^31 for v < 2^53), then the low 8 digits zero-padded
    const hi = Math.floor(v / 1e8);
    let lo = v - hi * 1e8;
    p = uint(b, p, hi);
    for (let q = p + 8; q > p; q -= 2) {
      const t = (lo / 100) | 0;
      const d = (lo - t * 100) << 1;
      b[q - 1] = PAIRS[d + 1]!;
      b[q - 2] = PAIRS[d]!;
      lo = t;
    }
    return p + 8;
  }
  const len = v < 10 ? 1 : v < 100 ? 2 : v < 1e3 ? 3 : v < 1e4 ? 4 : v < 1e5 ? 5 : v < 1e6 ? 6 : v < 1e7 ? 7 : v < 1e8 ? 8 : v < 1e9 ? 9 : 10;
  digitsBefore(b, p + len, v);
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
/** Longer than this, TypedArray#set (a memmove) beats storing byte by byte (~50 ns a call, ~1 ns a byte, node 20). */
const SET_FROM = 24;
function copy(b: Buffer, p: number, x: Uint8Array): number {
  const n = x.length;
  if (n > b.length - p) throw new Overflow(n);
  if (n < SET_FROM) return bytes(b, p, x);
  b.set(x, p);
  return p + n;
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

/**
 * A span's bytes for one source value: the derived fields reading it, with the keys and
 * punctuation between them (and the raw value itself where it is shown next to them), encoded
 * once per value. One copy writes them all.
 */
function span(b: Buffer, p: number, cache: SpanCache, encode: (v: unknown) => Buffer, v: unknown): number {
  // the value of the record before (a burst from one process, one container) skips the map
  if (v === cache.lastValue && cache.last !== undefined) return copy(b, p, cache.last);
  let e = cache.get(v);
  if (e === undefined) {
    e = encode(v);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(v, e);
  }
  cache.lastValue = v;
  cache.last = e;
  return copy(b, p, e);
}

/** A span's encodings per source value, and the last one used. */
class SpanCache extends Map<unknown, Buffer> {
  lastValue: unknown;
  last: Buffer | undefined;
  override clear(): void {
    super.clear();
    this.last = undefined;
  }
}

/**
 * The text of a run of integer fields (and short strings), kept with the record bytes it was
 * written from: the next record with the same bytes there (the same pid, tid, uid, namespaces,
 * comm) gets the text copied.
 * Where the bytes change too often it stops looking for a while.
 */
class IntRun {
  bytes: Uint8Array;
  text = new Uint8Array(0);
  private hits = 0;
  private misses = 0;
  private off = 0;
  constructor(n: number) {
    this.bytes = new Uint8Array(n);
  }
  /** 1: the text is that of the last record; 0: write it and keep it; 2: write it (not looking) */
  same(u8: Buffer, at: number, n: number): number {
    if (this.off > 0) {
      this.off--;
      return 2;
    }
    const m = this.bytes;
    let i = 0;
    while (i < n && u8[at + i] === m[i]) i++;
    if (i === n && this.text.length > 0) {
      this.hits++;
      return 1;
    }
    if (++this.misses === RUN_WINDOW) {
      if (this.hits < RUN_WINDOW) this.off = RUN_PAUSE;
      this.hits = this.misses = 0;
    }
    return 0;
  }
  keep(u8: Buffer, at: number, n: number, b: Buffer, start: number, end: number): void {
    const m = this.bytes;
    for (let i = 0; i < n; i++) m[i] = u8[at + i]!;
    const t = new Uint8Array(end - start);
    for (let i = 0; i < t.length; i++) t[i] = b[start + i]!;
    this.text = t;
  }
}
/** Misses counted before deciding; fewer hits than misses then pauses the run's look-ups for RUN_PAUSE records. */
const RUN_WINDOW = 64;
const RUN_PAUSE = 4096;
/** Integer fields that make a run: fewer are written about as fast as compared. */
const RUN_MIN_FIELDS = 3;
const RUN_MAX_BYTES = 64;

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
  p = copy(b, p, tsBefore);
  // 9 digits, zero-padded: four pairs from the end, then the first
  for (let q = p + 9; q > p + 1; q -= 2) {
    const t = (ns / 100) | 0;
    const d = (ns - t * 100) << 1;
    b[q - 1] = PAIRS[d + 1]!;
    b[q - 2] = PAIRS[d]!;
    ns = t;
  }
  b[p] = 48 + ns;
  return copy(b, p + 9, tsAfter);
}

const W = { int, num, str, cstr, text, value, copy, formatted, timestamp, span };
const copyRun = (b: Buffer, p: number, run: IntRun): number => copy(b, p, run.text);

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

/** The output in order: constant text, and fields. */
type Piece = { text: string } | { field: RunField };

/**
 * Compile the writer for `fieldNames` of `ds` (in this order, re-nested on dots as JsonSink
 * does). Consecutive fields that are all functions of one source value (derived fields reading
 * it, and the raw integer field they are derived from: `error_raw` then `error`; a record's
 * container fields) are written as one span, encoded once per source value with the constant
 * text around them, and copied whole.
 */
export function compileJsonWriter(ds: RunDataSource, fieldNames: readonly string[]): CompiledRecordWriter {
  const fields = fieldNames.map((n) => ds.require(n));
  const pieces: Piece[] = [];
  const emit = (nodes: Node[]) => {
    const text = (t: string) => {
      const last = pieces[pieces.length - 1];
      if (last && 'text' in last) last.text += t;
      else pieces.push({ text: t });
    };
    text('{');
    nodes.forEach((n, i) => {
      text((i ? ',' : '') + JSON.stringify(n.key) + ':');
      if (n.children) return emit(n.children);
      pieces.push({ field: fields[fieldNames.indexOf(n.field!)]! });
    });
    text('}');
  };
  emit(buildTree(fieldNames));

  // each field's span key: its source's for a derived field; for a raw integer, that of the derived fields reading it
  const sourceOf = new Map<string, string>(); // span key -> source expression
  for (const f of fields) {
    if (f.source.type === 'derived' && f.source.special !== 'timestamp') sourceOf.set(sourceKey(f), ds.sourceExpr(f));
  }
  const keyOf = (f: RunField): string | undefined => {
    const s = f.source;
    if (s.type === 'derived') return s.special === 'timestamp' ? undefined : sourceKey(f);
    if (s.type !== 'static' || (s.code.write.as !== 'int' && s.code.write.as !== 'u64')) return undefined;
    for (const [k, e] of sourceOf) if (e === s.code.expr) return k;
    return undefined;
  };

  const stmts: string[] = [];
  let maxBytes = 1;
  const caches: Map<unknown, unknown>[] = [];
  const cacheRef = () => `M[${caches.push(new Map()) - 1}]`;
  const runs: IntRun[] = [];
  const encoders: ((v: unknown) => Buffer)[] = [];
  const constText = (t: string) => {
    stmts.push(constBytes(t));
    maxBytes += Buffer.byteLength(t);
  };
  const write = (f: RunField) => {
    const s = f.source;
    if (s.type === 'static') {
      stmts.push(writeStmt(s.code, cacheRef));
      maxBytes += s.code.maxJson ?? TEXT_BOUND;
      return;
    }
    maxBytes += TEXT_BOUND;
    if (s.type === 'column') stmts.push(`p = W.value(b, p, ${ds.expr(f)});`);
    else stmts.push(`p = W.timestamp(b, p, ${ds.sourceExpr(f)});`);
  };

  // spans as piece ranges [start, end): text and fields alternate (keys are text), so a span's
  // fields are every other piece; it takes the text on either side unless a span before took it
  const spans: { start: number; end: number; key: string }[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const x = pieces[i]!;
    const key = 'field' in x ? keyOf(x.field) : undefined;
    if (key === undefined) continue;
    let last = i;
    let derived = false;
    for (let j = i; j < pieces.length; j += 2) {
      const n = pieces[j]!;
      if (!('field' in n) || keyOf(n.field) !== key) break;
      derived ||= n.field.source.type === 'derived';
      last = j;
    }
    if (!derived) continue; // a raw integer alone
    const prev = spans[spans.length - 1];
    const start = i > 0 && 'text' in pieces[i - 1]! && (!prev || prev.end < i) ? i - 1 : i;
    const end = last + 1 < pieces.length && 'text' in pieces[last + 1]! ? last + 2 : last + 1;
    spans.push({ start, end, key });
    i = end - 1;
  }

  for (let i = 0, k = 0; i < pieces.length; ) {
    const sp = spans[k];
    if (sp && sp.start === i) {
      const parts = pieces.slice(sp.start, sp.end).map((x): string | ((v: unknown) => string) => {
        if ('text' in x) {
          maxBytes += Buffer.byteLength(x.text);
          return x.text;
        }
        const src = x.field.source;
        maxBytes += src.type === 'static' ? (src.code.maxJson ?? TEXT_BOUND) : TEXT_BOUND;
        if (src.type !== 'derived') return encodeValue;
        const fn = ds.derivedFn(x.field);
        return (v) => encodeValue(fn(v));
      });
      const id = encoders.push((v) => Buffer.from(parts.map((x) => (typeof x === 'string' ? x : x(v))).join(''), 'utf8')) - 1;
      stmts.push(`p = W.span(b, p, M[${caches.push(new SpanCache()) - 1}], E[${id}], ${sourceOf.get(sp.key)});`);
      i = sp.end;
      k++;
      continue;
    }
    const x = pieces[i]!;
    const run = 'field' in x ? intRun(pieces, i, sp ? sp.start : pieces.length) : undefined;
    if (run) {
      // the run's text is copied when its bytes are those of the record before
      const id = runs.push(new IntRun(run.hi - run.lo)) - 1;
      const at = `o + ${run.lo}, ${run.hi - run.lo}`;
      stmts.push(`const h${id} = R[${id}].same(u8, ${at});`, `if (h${id} === 1) p = copyRun(b, p, R[${id}]);`, `else {`, `const s${id} = p;`);
      for (let j = i; j <= run.last; j++) {
        const y = pieces[j]!;
        if ('text' in y) constText(y.text);
        else write(y.field);
      }
      stmts.push(`if (h${id} === 0) R[${id}].keep(u8, ${at}, b, s${id}, p);`, `}`);
      i = run.last + 1;
      continue;
    }
    if ('text' in x) constText(x.text);
    else write(x.field);
    i++;
  }
  const source = stmts.join('\n');
  const tables = { W, enc: encodeValue, M: caches, E: encoders, R: runs, copyRun };
  const fn = ds.compile<RecordWriter>('dv, u8, o, X, r, b, p', `${source}\nreturn p;`, tables);
  return { write: fn, maxBytes, source, clear: () => caches.forEach((c) => c.clear()) };
}

/** Integers and short strings (comm) read from the record bytes: their text depends on those bytes only. */
function rawInt(x: Piece): { offset: number; size: number } | undefined {
  if (!('field' in x) || x.field.source.type !== 'static') return undefined;
  const c = x.field.source.code;
  const ok = c.write.as === 'int' || c.write.as === 'u64' || (c.write.as === 'cstr' && c.write.size <= 16);
  return ok ? c.at : undefined;
}

/** The run of integer fields starting at piece `i` (before `limit`): the bytes they read, its last piece. */
function intRun(pieces: Piece[], i: number, limit: number): { lo: number; hi: number; last: number } | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  let last = i;
  let n = 0;
  for (let j = i; j < limit; j += 2) {
    const at = rawInt(pieces[j]!);
    if (!at) break;
    const l = Math.min(lo, at.offset);
    const h = Math.max(hi, at.offset + at.size);
    if (h - l > RUN_MAX_BYTES) break;
    lo = l;
    hi = h;
    last = j;
    n++;
  }
  return n >= RUN_MIN_FIELDS ? { lo, hi, last } : undefined;
}
