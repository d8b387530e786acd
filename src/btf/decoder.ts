import type { Leaf } from './layout.js';
import type { Event, FieldDesc, ValueKind } from '../model/field.js';
import { formatters, formatProto } from '../format/index.js';

/** Decodes the record at byte `o` of a batch. `dv` and `u8` view the same bytes. */
export type RecordDecoder = (dv: DataView, u8: Buffer, o: number) => Event;

/**
 * How a field's value is best written as JSON straight from the record bytes (see
 * output/json-records.ts): `int` a number (<= 32 bits), `u64` a number or bigint, `cstr` a
 * NUL-terminated char array at `at` of `size` bytes, `formatted` the text the function `fmt`
 * makes of the value `raw` (the same text for the same value, so it can be kept), `timestamp`
 * a gadget_timestamp of `raw`, `string` any JS string, `value` anything else (through encodeValue).
 */
type WriteHint =
  | { as: 'int' | 'u64' | 'string' | 'value' }
  | { as: 'cstr'; at: string; size: number }
  | { as: 'formatted'; fmt: string; raw: string };

/**
 * How a raw field's value becomes the text IG shows beside it (`error` from `error_raw`): a
 * gadget_* typedef's formatter, or an enum's names. The formatters operator adds that field;
 * the layout only reads the bytes.
 */
type RawFormat =
  | { kind: 'typedef'; name: string }
  | { kind: 'enum'; values: { name: string; value: number | bigint }[]; isSet: boolean };

/**
 * One field of a layout as code: a JS expression over `(dv, u8, o)` (and the helpers `H`, the
 * constants `C`) that reads its value. The decoder puts every expression into one object literal;
 * the JSON writer writes the selected ones straight into an output buffer.
 */
export interface FieldCode {
  name: string;
  expr: string;
  write: WriteHint;
  /** an upper bound of the JSON text's length in bytes, when one is known */
  maxJson?: number;
  /** a `*_raw` field the formatters operator names (see RawFormat) */
  format?: RawFormat;
  /** where the field's bytes are in the record (absent for bitfields): what byte-level readers and writers use */
  at?: { offset: number; size: number };
}

export interface CompiledLayout {
  decode: RecordDecoder;
  fields: FieldDesc[];
  /** each field's reading code, in `fields` order; `consts` are its `C[i]` */
  codes: FieldCode[];
  consts: unknown[];
  /** the generated source, for `IG_DEBUG` and tests */
  source: string;
}

/** ig's typedefs for a process as its own pid namespace sees it (bpf/include/gadget/pidns.h). */
const PIDNS_TYPES: ReadonlySet<string> = new Set(['gadget_pidns_id', 'gadget_ns_pid', 'gadget_ns_tid', 'gadget_ns_ppid']);

/** Reads a u64 as a number when exact (< 2^53), else as a bigint: most ids and times fit, and numbers are far cheaper. */
function u64(dv: DataView, o: number): number | bigint {
  const hi = dv.getUint32(o + 4, true);
  return hi < 0x200000 ? hi * 4294967296 + dv.getUint32(o, true) : dv.getBigUint64(o, true);
}
function s64(dv: DataView, o: number): number | bigint {
  const v = dv.getBigInt64(o, true);
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}
function str(u8: Buffer, s: number, n: number): string {
  const end = s + n;
  let e = u8.indexOf(0, s);
  if (e === -1 || e > end) e = end;
  return u8.toString('utf8', s, e);
}
/** Little-endian bitfield read at an absolute bit offset. */
function bits(u8: Buffer, o: number, bitOff: number, n: number, signed: boolean): number | bigint {
  const start = o + (bitOff >> 3);
  const shift = BigInt(bitOff & 7);
  let acc = 0n;
  const nbytes = ((bitOff & 7) + n + 7) >> 3;
  for (let i = nbytes - 1; i >= 0; i--) acc = (acc << 8n) | BigInt(u8[start + i] ?? 0);
  let v = (acc >> shift) & ((1n << BigInt(n)) - 1n);
  if (signed && v >> BigInt(n - 1)) v -= 1n << BigInt(n);
  return n <= 53 ? Number(v) : v;
}
function enumName(names: Map<number | bigint, string>, v: number | bigint): string {
  return names.get(v) ?? String(v);
}
function enumSet(values: { name: string; value: bigint }[], v: number | bigint): string {
  const b = BigInt(v);
  // no bit set: the zero enumerator's name, else "" (as format/formatEnumSet: an empty set shows nothing)
  if (b === 0n) return values.find((x) => x.value === 0n)?.name ?? '';
  const parts: string[] = [];
  let rest = b;
  for (const x of values) {
    if (x.value !== 0n && (b & x.value) === x.value) {
      parts.push(x.name);
      rest &= ~x.value;
    }
  }
  if (rest !== 0n) parts.push(`0x${rest.toString(16)}`);
  return parts.join('|');
}
function endpoint(u8: Buffer, o: number, addr: number, ver: number, port: number): string {
  const version = ver >= 0 ? u8[o + ver] : 4;
  let ip: string;
  const a = o + addr;
  const mapped = version === 6 && u8.readUInt32BE(a) === 0 && u8.readUInt32BE(a + 4) === 0 && u8.readUInt32BE(a + 8) === 0xffff;
  if (version === 4 || mapped) {
    const b = mapped ? a + 12 : a;
    ip = `${u8[b]}.${u8[b + 1]}.${u8[b + 2]}.${u8[b + 3]}`;
  } else if (version === 6) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(u8.readUInt16BE(a + i).toString(16));
    ip = compressV6(groups);
  } else {
    ip = '';
  }
  if (port < 0) return ip;
  const p = u8.readUInt16LE(o + port);
  return version === 6 && !mapped ? `[${ip}]:${p}` : `${ip}:${p}`;
}
function compressV6(g: string[]): string {
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return g.join(':');
  return `${g.slice(0, best).join(':')}::${g.slice(best + bestLen).join(':')}`;
}

/** The helpers generated code calls as `H.x` (the JSON writer's code calls them too). */
export const HELPERS = { u64, s64, str, bits, endpoint, proto: formatProto };

function readExpr(l: Leaf, at: string): string {
  switch (l.size) {
    case 1: return l.signed ? `dv.getInt8(${at})` : `dv.getUint8(${at})`;
    case 2: return l.signed ? `dv.getInt16(${at}, true)` : `dv.getUint16(${at}, true)`;
    case 4: return l.signed ? `dv.getInt32(${at}, true)` : `dv.getUint32(${at}, true)`;
    case 8: return l.signed ? `H.s64(dv, ${at})` : `H.u64(dv, ${at})`;
    default: return `H.bits(u8, ${at}, 0, ${l.size * 8}, ${l.signed})`;
  }
}

function elemExpr(e: NonNullable<Leaf['elem']>, at: string): string {
  if (e.kind === 'float') return e.size === 4 ? `dv.getFloat32(${at}, true)` : `dv.getFloat64(${at}, true)`;
  if (e.kind === 'bool') return `dv.getUint8(${at}) !== 0`;
  return readExpr({ size: e.size, signed: e.signed } as Leaf, at);
}

function valueKind(l: Leaf): ValueKind {
  switch (l.kind) {
    case 'bool': return 'bool';
    case 'float': return 'number';
    case 'enum': case 'string': case 'endpoint': return 'string';
    case 'array': return 'array';
    default: return l.size === 8 ? 'bigint' : 'number';
  }
}

/** The formatter for a leaf, when one of its typedefs has one. */
function formatterOf(l: Leaf): string | undefined {
  return l.typedefs.find((t) => t in formatters);
}

/** The JSON text bound of an integer read of `size` bytes (a u64 beyond 2^53 is a quoted string). */
const INT_JSON = [0, 4, 6, 11, 11, 0, 0, 0, 22];

/**
 * Compile leaves into one straight-line function building the event object in a
 * single literal (one hidden class per layout, no per-field dispatch at run time).
 * `x_raw` fields of a formatted gadget type or of an enum keep their number and carry a
 * RawFormat: the formatters operator adds the formatted sibling `x` (as in Inspektor Gadget).
 */
export function compileLayout(leaves: Leaf[], opts: { prefix?: string; tags?: string[] } = {}): CompiledLayout {
  const consts: unknown[] = [];
  const constRef = (v: unknown) => `C[${consts.push(v) - 1}]`;
  const codes: FieldCode[] = [];
  const fields: FieldDesc[] = [];
  const seen = new Set<string>();
  const prefix = opts.prefix ?? '';
  const add = (desc: FieldDesc, code: Omit<FieldCode, 'name'>) => {
    fields.push(desc);
    codes.push({ name: desc.name, ...code });
  };

  for (const l of leaves) {
    const name = prefix + l.name;
    if (seen.has(name)) continue; // a union's members may alias; first wins
    seen.add(name);
    const at = l.offset === 0 ? 'o' : `o + ${l.offset}`;
    const isRaw = name.endsWith('_raw');
    let expr: string;
    let write: WriteHint = { as: 'value' };
    let maxJson: number | undefined;
    switch (l.kind) {
      case 'int':
        expr = readExpr(l, at);
        if (l.size <= 8 && INT_JSON[l.size]) {
          write = { as: l.size === 8 ? 'u64' : 'int' };
          maxJson = INT_JSON[l.size];
        }
        break;
      case 'bool': expr = `dv.getUint8(${at}) !== 0`; maxJson = 5; break;
      case 'float': expr = l.size === 4 ? `dv.getFloat32(${at}, true)` : `dv.getFloat64(${at}, true)`; maxJson = 32; break;
      case 'string':
        expr = `H.str(u8, ${at}, ${l.size})`;
        write = { as: 'cstr', at, size: l.size };
        maxJson = l.size * 6 + 2; // every byte escaped as \u00XX at worst
        break;
      case 'bitfield': expr = `H.bits(u8, o, ${l.bitOffset}, ${l.bits}, ${l.signed})`; break;
      case 'endpoint': {
        const e = l.endpoint!;
        expr = `H.endpoint(u8, ${at}, ${e.addr}, ${e.version}, ${e.port})`;
        write = { as: 'string' };
        maxJson = 56; // "[ffff:…:ffff]:65535"
        break;
      }
      case 'array': {
        const e = l.elem!;
        const items: string[] = [];
        for (let i = 0; i < e.count; i++) items.push(elemExpr(e, `${at} + ${i * e.size}`));
        expr = `[${items.join(', ')}]`;
        maxJson = 2 + e.count * 33;
        break;
      }
      case 'enum': {
        const raw = readExpr(l, at);
        if (isRaw) {
          // `op_raw`: the number stays here; the formatters operator adds `op` with its name (as IG)
          expr = raw;
          if (INT_JSON[l.size]) write = { as: l.size === 8 ? 'u64' : 'int' };
          maxJson = INT_JSON[l.size];
          break;
        }
        const fmt = enumFormatter(l, constRef);
        expr = `${fmt}(${raw})`;
        write = { as: 'formatted', fmt, raw };
        break;
      }
    }
    if (l.kind === 'bitfield' && l.enumValues && !isRaw) {
      const fmt = enumFormatter(l, constRef);
      write = { as: 'formatted', fmt, raw: expr };
      expr = `${fmt}(${expr})`;
    }

    const fmt = formatterOf(l);
    const namedEnum = l.enumValues && !isRaw;
    const kind = l.kind === 'bitfield' && namedEnum ? 'string' : l.kind === 'enum' && isRaw ? (l.size === 8 ? 'bigint' : 'number') : valueKind(l);
    const isEndpointPart = leaves.some((p) => p.kind === 'endpoint' && l !== p && l.name.startsWith(p.name + '.'));
    const tags = l.tags ?? opts.tags;
    const desc: FieldDesc = { name, kind, typeName: l.cType, tags };
    if (l.alias) desc.alias = l.alias;
    if (isEndpointPart) desc.hidden = true;
    // pids as a pid namespace sees them: hidden on the host, shown when a run selects containers (operators/containers.ts)
    if (PIDNS_TYPES.has(l.cType)) desc.hidden = true;
    if (l.processPart) {
      // IG: members of gadget_process/creds/parent are shown under their own name; its templates
      // hide the mount namespace and the parent's fields
      desc.alias = name.split('.').pop();
      if (l.processPart === 'gadget_parent' || l.cType === 'gadget_mntns_id') desc.hidden = true;
    }
    let format: RawFormat | undefined;
    if (isRaw && l.enumValues) format = { kind: 'enum', values: l.enumValues, isSet: !!l.isSet };
    else if (isRaw && fmt) format = { kind: 'typedef', name: fmt };
    // a raw field someone formats is hidden, as in IG: the formatted one shows
    if (format) desc.hidden = true;
    add(desc, { expr, write, maxJson, format, ...(l.kind === 'bitfield' ? {} : { at: { offset: l.offset, size: l.size } }) });
    if (l.kind === 'endpoint') {
      // JSON re-nests `ep.port` etc. under `ep`, where the `ep` string itself cannot live: as IG,
      // the endpoint also gets `ep.addr` (the IP as text) and, for L4, `ep.proto` (`TCP`).
      const e = l.endpoint!;
      const hidden = { name: '', kind: 'string' as const, hidden: true, tags };
      const addrName = `${name}.addr`;
      if (!seen.has(addrName) && e.addr >= 0) {
        seen.add(addrName);
        add({ ...hidden, name: addrName, typeName: 'gadget_ip_addr' },
          { expr: `H.endpoint(u8, ${at}, ${e.addr}, ${e.version}, -1)`, write: { as: 'string' }, maxJson: 48 });
      }
      const protoName = `${name}.proto`;
      if (!seen.has(protoName) && e.proto >= 0) {
        seen.add(protoName);
        add({ ...hidden, name: protoName, typeName: 'gadget_proto' },
          { expr: `H.proto(dv.getUint16(${at} + ${e.proto}, true))`, write: { as: 'string' } });
      }
    }
  }
  const source = `return {\n  ${codes.map((c) => `${JSON.stringify(c.name)}: ${c.expr}`).join(',\n  ')}\n};`;
  const factory = new Function('H', 'C', `return function decode(dv, u8, o) {\n${source}\n};`);
  return { decode: factory(HELPERS, consts) as RecordDecoder, fields, codes, consts, source };
}

/** A function naming an enum's value (a set's: its flags joined with `|`); unknown values as their number. */
export function enumNamer(values: readonly { name: string; value: number | bigint }[], isSet: boolean): (v: number | bigint) => string {
  if (isSet) {
    const set = values.map((v) => ({ name: v.name, value: BigInt(v.value) }));
    return (v) => enumSet(set, v);
  }
  const names = new Map(values.map((v) => [v.value, v.name]));
  return (v) => enumName(names, v);
}

/** A constant function naming an enum's value, as code. */
function enumFormatter(l: Leaf, constRef: (v: unknown) => string): string {
  return constRef(enumNamer(l.enumValues ?? [], !!l.isSet));
}
