/**
 * A field as a guest reads and writes it (IG's FieldAccessor): by its bytes when the field is
 * in the record (a static field: read and written in place, as IG's accessors do with eBPF
 * struct members), else by its value through the datasource's generated reader and its setter
 * (fields operators and guests added, fields computed from others).
 *
 * IG's rules carried over: a scalar access must match the field's size (a uint32 read of an
 * 8-byte field is an error); a bool is the byte 1; floats travel as their IEEE 754 bits; a
 * signed read comes back sign-extended to 64 bits; a string shorter than a static char array is
 * copied and zero-filled, any other static write must match the size exactly.
 *
 * Values of added fields are kept as the outputs show them: numbers (64-bit ones as numbers
 * below 2^53, else bigints), booleans, strings, and Kind_Bytes as hex text (IG's JSON shows
 * bytes as hex).
 */
import type { Batch } from '../../datasource/batch.js';
import type { RecordFn, RunDataSource } from '../../datasource/datasource.js';
import type { RunField } from '../../datasource/field.js';
import { Kind, KIND_NAMES, KIND_SIZE, SCALAR_SIZE } from '../abi.js';

export class AccessError extends Error {}

const SIGNED = new Set<number>([Kind.Int8, Kind.Int16, Kind.Int32, Kind.Int64]);
const TWO32 = 4294967296;

// scratch space for float <-> bits conversions (no allocation per call)
const f32 = new Float32Array(1);
const f64 = new Float64Array(1);
const u32of32 = new Uint32Array(f32.buffer);
const u32of64 = new Uint32Array(f64.buffer);

/** A float32's shortest decimal that reads back as the same float32 (what IG's JSON prints). */
function float32Value(bits: number): number {
  u32of32[0] = bits;
  const x = f32[0]!;
  if (!Number.isFinite(x)) return x;
  for (let p = 1; p <= 9; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x) return y;
  }
  return x;
}

export class FieldAccess {
  readonly name: string;
  /** the field's bytes in the record, for static fields */
  private readonly at?: { offset: number; size: number };
  private readonly read: RecordFn<unknown>;
  private setValue?: (b: Batch, r: number, v: unknown) => void;
  /** the high 32 bits of the last scalar read */
  hi = 0;

  /** `kind`: the IG kind a guest gave the field when it added it */
  constructor(readonly ds: RunDataSource, readonly field: RunField, readonly kind?: number) {
    this.name = field.name;
    this.at = ds.byteRange(field.name);
    this.read = ds.reader(field.name);
    if (field.source.type !== 'derived') this.setValue = ds.setter(field.name);
  }

  private sizeCheck(have: number, kind: number): void {
    const need = KIND_SIZE[kind];
    if (need === undefined) throw new AccessError(`kind ${kind} (${KIND_NAMES[kind] ?? 'unknown'}) is not a scalar kind; use fieldGetBuffer for strings and bytes`);
    if (have !== need) throw new AccessError(`field "${this.name}" is ${have} bytes; a ${KIND_NAMES[kind]} access needs ${need}`);
  }

  /** The low 32 bits of the field's value read as `kind`; the high 32 in `hi`. */
  scalar(b: Batch, r: number, kind: number): number {
    const at = this.at;
    if (at) {
      if ((kind < 16 ? SCALAR_SIZE[kind] : 0) !== at.size) this.sizeCheck(at.size, kind);
      const o = b.offsets[r]! + at.offset;
      const dv = b.dv;
      let lo: number;
      switch (at.size) {
        case 1: lo = kind === Kind.Bool ? (dv.getUint8(o) === 1 ? 1 : 0) : kind === Kind.Int8 ? dv.getInt8(o) : dv.getUint8(o); break;
        case 2: lo = kind === Kind.Int16 ? dv.getInt16(o, true) : dv.getUint16(o, true); break;
        case 4: lo = kind === Kind.Int32 ? dv.getInt32(o, true) : dv.getUint32(o, true); break;
        default:
          this.hi = dv.getUint32(o + 4, true);
          return dv.getUint32(o, true);
      }
      this.hi = lo < 0 ? -1 : 0;
      return lo;
    }
    if (this.kind !== undefined) this.sizeCheck(KIND_SIZE[this.kind] ?? 0, kind);
    else if (KIND_SIZE[kind] === undefined) this.sizeCheck(0, kind);
    return this.fromValue(this.read(b, r), kind);
  }

  private fromValue(v: unknown, kind: number): number {
    this.hi = 0;
    switch (typeof v) {
      case 'undefined': return 0; // an added scalar not set yet reads as zero (IG allocates zeroed payloads)
      case 'boolean': return v ? 1 : 0;
      case 'bigint': {
        this.hi = Number(BigInt.asUintN(64, v) >> 32n) | 0;
        return Number(v & 0xffffffffn) | 0;
      }
      case 'number': {
        if (kind === Kind.Float32) {
          f32[0] = v;
          return u32of32[0]! | 0;
        }
        if (kind === Kind.Float64) {
          f64[0] = v;
          this.hi = u32of64[1]! | 0;
          return u32of64[0]! | 0;
        }
        const t = Math.trunc(v);
        if (KIND_SIZE[kind] === 8) {
          if (t >= 0 && t < 2 ** 53) {
            this.hi = Math.floor(t / TWO32) | 0;
            return t % TWO32 | 0;
          }
          return this.fromValue(BigInt(t), kind);
        }
        const lo = t | 0;
        const size = KIND_SIZE[kind]!;
        const x = size === 1 ? (SIGNED.has(kind) ? (lo << 24) >> 24 : lo & 0xff) : size === 2 ? (SIGNED.has(kind) ? (lo << 16) >> 16 : lo & 0xffff) : lo;
        this.hi = SIGNED.has(kind) && x < 0 ? -1 : 0;
        return x;
      }
      case 'string':
        throw new AccessError(`field "${this.name}" is a string; read it with fieldGetBuffer`);
      default:
        throw new AccessError(`field "${this.name}" has no scalar value`);
    }
  }

  /** The field's bytes: a static field's as in the record, a value's as IG would hold its payload. */
  buffer(b: Batch, r: number): Uint8Array {
    const at = this.at;
    if (at) {
      const o = b.offsets[r]! + at.offset;
      return b.data.subarray(o, o + at.size);
    }
    const v = this.read(b, r);
    if (v === undefined || v === null) return new Uint8Array(0);
    if (typeof v === 'string') return this.kind === Kind.Bytes ? Buffer.from(v, 'hex') : Buffer.from(v, 'utf8');
    const kind = this.kind ?? (typeof v === 'bigint' ? Kind.Uint64 : typeof v === 'boolean' ? Kind.Bool : Kind.Int64);
    const out = Buffer.alloc(KIND_SIZE[kind] ?? 8);
    const lo = this.fromValue(v, kind);
    out.writeUInt32LE(lo >>> 0, 0);
    if (out.length > 4) out.writeUInt32LE(this.hi >>> 0, 4);
    return out.subarray(0, KIND_SIZE[kind] ?? 8);
  }

  /** Set the field from a scalar (`lo`, `hi`: the i64 the guest passed) of `kind`. */
  setScalar(b: Batch, r: number, kind: number, lo: number, hi: number): void {
    const at = this.at;
    if (at) {
      if ((kind < 16 ? SCALAR_SIZE[kind] : 0) !== at.size) this.sizeCheck(at.size, kind);
      const o = b.offsets[r]! + at.offset;
      const dv = b.dv;
      switch (at.size) {
        case 1: dv.setUint8(o, kind === Kind.Bool ? ((lo | hi) !== 0 ? 1 : 0) : lo & 0xff); break;
        case 2: dv.setUint16(o, lo & 0xffff, true); break;
        case 4: dv.setUint32(o, lo >>> 0, true); break;
        default: dv.setUint32(o, lo >>> 0, true); dv.setUint32(o + 4, hi >>> 0, true);
      }
      return;
    }
    if (!this.setValue) throw new AccessError(`field "${this.name}" is computed from another field; it cannot be set`);
    const k = this.kind ?? kind;
    const size = kind < 16 ? SCALAR_SIZE[kind]! : 0;
    if (size === 0 || (this.kind !== undefined && SCALAR_SIZE[this.kind] !== size)) this.sizeCheck(this.kind === undefined ? 0 : KIND_SIZE[this.kind] ?? 0, kind);
    this.setValue(b, r, scalarValue(k, lo, hi));
  }

  /** Set the field from bytes (a string or Kind_Bytes). */
  setBuffer(b: Batch, r: number, kind: number, bytes: Uint8Array): void {
    const at = this.at;
    if (at) {
      const o = b.offsets[r]! + at.offset;
      if (this.field.kind === 'string' && bytes.length < at.size) {
        b.data.set(bytes, o);
        b.data.fill(0, o + bytes.length, o + at.size);
        return;
      }
      if (bytes.length !== at.size) throw new AccessError(`field "${this.name}" is ${at.size} bytes; got ${bytes.length}`);
      b.data.set(bytes, o);
      return;
    }
    if (!this.setValue) throw new AccessError(`field "${this.name}" is computed from another field; it cannot be set`);
    if (this.kind !== undefined && KIND_SIZE[this.kind] !== undefined) {
      throw new AccessError(`field "${this.name}" is a ${KIND_NAMES[this.kind]}; set it with that kind`);
    }
    const asBytes = (this.kind ?? kind) === Kind.Bytes;
    this.setValue(b, r, asBytes ? Buffer.from(bytes).toString('hex') : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'));
  }
}

/** The JS value of a scalar of `kind` passed as (lo, hi). */
function scalarValue(kind: number, lo: number, hi: number): number | bigint | boolean {
  switch (kind) {
    case Kind.Bool: return (lo | hi) !== 0;
    case Kind.Int8: return (lo << 24) >> 24;
    case Kind.Uint8: return lo & 0xff;
    case Kind.Int16: return (lo << 16) >> 16;
    case Kind.Uint16: return lo & 0xffff;
    case Kind.Int32: return lo | 0;
    case Kind.Uint32: return lo >>> 0;
    case Kind.Float32: return float32Value(lo >>> 0);
    case Kind.Float64:
      u32of64[0] = lo >>> 0;
      u32of64[1] = hi >>> 0;
      return f64[0]!;
    case Kind.Int64: {
      if ((hi === 0 && lo >= 0) || (hi === -1 && lo < 0)) return lo | 0;
      const v = BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
      return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
    }
    default: { // Uint64 (and anything else 8 bytes)
      const h = hi >>> 0;
      return h < 0x200000 ? h * TWO32 + (lo >>> 0) : (BigInt(h) << 32n) | BigInt(lo >>> 0);
    }
  }
}
