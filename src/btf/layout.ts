import type { BtfSpec, BtfType } from './spec.js';
import { IgError } from '../errors.js';

/** One value to read out of a record, found by flattening a BTF struct. */
export interface Leaf {
  /** dotted name: nested members become `parent.child` */
  name: string;
  /** byte offset inside the record */
  offset: number;
  kind: 'int' | 'bool' | 'float' | 'enum' | 'string' | 'array' | 'bitfield' | 'endpoint';
  size: number;
  signed: boolean;
  /** typedef names met while resolving the type, outermost first (`gadget_errno`, `__u32`) */
  typedefs: string[];
  /** bitfield: absolute bit offset in the record and width */
  bitOffset?: number;
  bits?: number;
  /** enum: enumerators; `isSet` when the enum's name ends in `_set` */
  enumValues?: { name: string; value: number | bigint }[];
  isSet?: boolean;
  /** array: element shape */
  elem?: { kind: 'int' | 'bool' | 'float'; size: number; signed: boolean; count: number };
  /** endpoint: byte offsets (relative to `offset`) of its parts; -1 when absent */
  endpoint?: { l4: boolean; addr: number; version: number; port: number; proto: number };
  /** a C type name for `ig image inspect` and docs */
  cType: string;
  /** tags the field gets (e.g. "key", "value" for toppers) */
  tags?: string[];
  /** the struct this member belongs to, when it is one of IG's gadget_process family */
  processPart?: string;
  /** the column header, when the name is too long to be one (members of IG's process structs) */
  alias?: string;
}

const ENDPOINTS = new Set(['gadget_l3endpoint_t', 'gadget_l4endpoint_t']);
/**
 * IG's process structs: their members' columns are headed by the member's own name (`proc.comm`
 * → COMM, `proc.creds.uid` → UID), as IG does (pkg/operators/ebpf/struct.go), not PROC.CO….
 */
const PROCESS_STRUCTS = new Set(['gadget_process', 'gadget_creds', 'gadget_parent']);
const CHAR_NAMES = new Set(['char', 'signed char', 'unsigned char']);
const BYTE_TYPEDEF = /^(__)?[us]8$|^u?int8_t$/;

/**
 * Bounds on what a record type may make us decode. The object decides every size here, so each is
 * checked before anything is allocated or generated: a crafted `char data[50000000]` or a 4 GiB
 * struct is an error naming the type, not an out-of-memory abort or a decoder reading past its record.
 */
/** Largest record (ring/perf record, iterator record, map key or value) decoded; the kernel's own map value limit is about this. */
const MAX_RECORD_BYTES = 4 << 20;
/** Elements of one array field (each becomes a number of an event). */
const MAX_ARRAY_ELEMENTS = 1 << 16;
/** Fields of one record, nested members and hidden parts included. */
const MAX_FIELDS = 4096;
/** Structs inside structs. */
const MAX_NESTING = 16;

/**
 * Flatten a struct (or union) into leaves, using BTF offsets only (never a packed
 * walk): nested structs and unions become `a.b`, members starting with `__` are
 * skipped, anonymous members are inlined, bitfields keep their bit position.
 * Every leaf lies inside the type's size, which is at most MAX_RECORD_BYTES.
 */
export function flatten(spec: BtfSpec, typeId: number, prefix = ''): Leaf[] {
  const root = spec.describe(typeId);
  const size = spec.sizeOf(typeId);
  if (!(size >= 0 && size <= MAX_RECORD_BYTES)) {
    throw new IgError('invalid-object', `record type ${root} is ${size} bytes; ig decodes records of at most ${MAX_RECORD_BYTES} bytes`, {
      hint: 'the gadget\'s record struct is far larger than any event; check its array sizes',
    });
  }
  const out: Leaf[] = [];
  walk(spec, typeId, prefix, 0, out, 0);
  for (const l of out) {
    const end = l.kind === 'bitfield' ? Math.ceil((l.bitOffset! + l.bits!) / 8) : l.offset + l.size;
    if (!(l.offset >= 0 && end <= size)) {
      throw new IgError('invalid-object', `field "${l.name}" of ${root} lies outside it (bytes ${l.offset}..${end} of ${size})`, {
        hint: 'the object\'s BTF is damaged or crafted; rebuild the gadget',
      });
    }
    // An endpoint is read at fixed places: its address (required), version, port, protocol.
    const ep = l.endpoint;
    if (ep && (ep.addr < 0 || ![[ep.addr, 16], [ep.version, 1], [ep.port, 2], [ep.proto, 2]].every(([at, n]) => at < 0 || (Number.isInteger(at) && at + n <= l.size)))) {
      throw new IgError('invalid-object', `endpoint "${l.name}" of ${root} has no address part, or parts not inside its ${l.size} bytes`, {
        hint: 'the object\'s BTF is damaged or crafted; rebuild the gadget',
      });
    }
    if (l.elem && l.elem.count > MAX_ARRAY_ELEMENTS) {
      throw new IgError('invalid-object', `field "${l.name}" of ${root} is an array of ${l.elem.count} elements; ig decodes at most ${MAX_ARRAY_ELEMENTS}`, {
        hint: 'make the array smaller, or a char array (shown as a string)',
      });
    }
  }
  return out;
}

function add(out: Leaf[], leaf: Leaf): void {
  if (out.length >= MAX_FIELDS) {
    throw new IgError('invalid-object', `a record has more than ${MAX_FIELDS} fields (at "${leaf.name}")`, {
      hint: 'the object\'s BTF is damaged or crafted, or the record struct is far larger than any event',
    });
  }
  out.push(leaf);
}

function walk(spec: BtfSpec, typeId: number, name: string, offset: number, out: Leaf[], depth: number): void {
  if (depth > MAX_NESTING) {
    throw new IgError('invalid-object', `BTF type ${spec.describe(typeId)} is nested more than ${MAX_NESTING} structs deep at "${name}" (or contains itself)`);
  }
  const { type, typedefs } = spec.resolve(typeId);
  if (!type) return;
  const structName = typedefs.find((t) => ENDPOINTS.has(t)) ?? (ENDPOINTS.has(type.name) ? type.name : undefined);
  if (structName && (type.kind === 'struct' || type.kind === 'union')) {
    add(out, endpointLeaf(spec, type, name, offset, typedefs, structName));
    // The parts stay available (hidden) under the endpoint's name.
    for (const m of type.members ?? []) walkMember(spec, m, name, offset, out, depth);
    return;
  }
  switch (type.kind) {
    case 'struct':
    case 'union': {
      const part = PROCESS_STRUCTS.has(type.name) ? type.name : typedefs.find((t) => PROCESS_STRUCTS.has(t));
      for (const m of type.members ?? []) {
        const from = out.length;
        walkMember(spec, m, name, offset, out, depth);
        // a direct member's leaf (not a nested struct's, which names its own)
        if (!part || m.name === '') continue;
        for (const l of out.slice(from)) {
          if (l.name !== (name ? `${name}.${m.name}` : m.name)) continue;
          l.alias = m.name;
          l.processPart = part;
        }
      }
      return;
    }
    case 'int': {
      const enc = type.intEncoding!;
      const isBool = enc.bool || type.name === '_Bool' || type.name === 'bool';
      add(out, {
        name, offset, kind: isBool ? 'bool' : 'int', size: type.size!, signed: enc.signed, typedefs,
        cType: typedefs[0] ?? type.name,
      });
      return;
    }
    case 'enum':
    case 'enum64':
      add(out, {
        name, offset, kind: 'enum', size: type.size!, signed: !!type.signed, typedefs,
        enumValues: type.values ?? [], isSet: type.name.endsWith('_set'), cType: `enum ${type.name}`,
      });
      return;
    case 'float':
      add(out, { name, offset, kind: 'float', size: type.size!, signed: true, typedefs, cType: type.name });
      return;
    case 'ptr':
      add(out, { name, offset, kind: 'int', size: 8, signed: false, typedefs, cType: 'void *' });
      return;
    case 'array':
      add(out, arrayLeaf(spec, type, name, offset, typedefs));
      return;
    default:
      // fwd, func and friends never appear inside a record; ignore rather than fail.
      return;
  }
}

function walkMember(
  spec: BtfSpec, m: { name: string; type: number; bitsOffset: number; bitfieldSize: number },
  parent: string, base: number, out: Leaf[], depth: number,
): void {
  if (m.name.startsWith('__')) return;
  const name = m.name === '' ? parent : parent ? `${parent}.${m.name}` : m.name;
  if (m.bitfieldSize > 0) {
    const { type, typedefs } = spec.resolve(m.type);
    const isEnum = type?.kind === 'enum' || type?.kind === 'enum64';
    add(out, {
      name, offset: base + Math.floor(m.bitsOffset / 8), kind: 'bitfield', size: type?.size ?? 4,
      signed: isEnum ? !!type?.signed : !!type?.intEncoding?.signed, typedefs,
      bitOffset: base * 8 + m.bitsOffset, bits: m.bitfieldSize,
      enumValues: isEnum ? type?.values : undefined, isSet: isEnum && type!.name.endsWith('_set'),
      cType: typedefs[0] ?? type?.name ?? 'int',
    });
    return;
  }
  if (m.bitsOffset % 8 !== 0) throw new IgError('invalid-object', `member "${name}" is not byte aligned`);
  walk(spec, m.type, name, base + m.bitsOffset / 8, out, depth + 1);
}

function arrayLeaf(spec: BtfSpec, type: BtfType, name: string, offset: number, typedefs: string[]): Leaf {
  const arr = type.array!;
  const el = spec.resolve(arr.type);
  const t = el.type;
  // char[N] is a string, also through IG's element typedefs (`gadget_comm comm[16]`); byte
  // typedefs (`__u8 data[16]`) say the author wants numbers.
  if (t?.kind === 'int' && t.size === 1 && CHAR_NAMES.has(t.name) && !el.typedefs.some((d) => BYTE_TYPEDEF.test(d))) {
    const all = [...typedefs, ...el.typedefs];
    return { name, offset, kind: 'string', size: arr.nelems, signed: false, typedefs: all, cType: all[0] ?? `char[${arr.nelems}]` };
  }
  let elem: Leaf['elem'];
  if (t?.kind === 'int') {
    const isBool = t.intEncoding!.bool || t.name === '_Bool';
    elem = { kind: isBool ? 'bool' : 'int', size: t.size!, signed: t.intEncoding!.signed, count: arr.nelems };
  } else if (t?.kind === 'enum' || t?.kind === 'enum64') {
    elem = { kind: 'int', size: t.size!, signed: !!t.signed, count: arr.nelems };
  } else if (t?.kind === 'float') {
    elem = { kind: 'float', size: t.size!, signed: true, count: arr.nelems };
  } else if (t?.kind === 'ptr') {
    elem = { kind: 'int', size: 8, signed: false, count: arr.nelems };
  } else {
    // Arrays of structs or arrays: shown as raw bytes, one number each.
    elem = { kind: 'int', size: 1, signed: false, count: spec.sizeOf(type.id) };
  }
  const elName = el.typedefs[0] ?? t?.name ?? '?';
  return { name, offset, kind: 'array', size: spec.sizeOf(type.id), signed: false, typedefs, elem, cType: typedefs[0] ?? `${elName}[${arr.nelems}]` };
}

function endpointLeaf(spec: BtfSpec, type: BtfType, name: string, offset: number, typedefs: string[], structName: string): Leaf {
  const find = (re: RegExp) => {
    const m = type.members?.find((x) => re.test(x.name));
    return m ? m.bitsOffset / 8 : -1;
  };
  const l4 = structName === 'gadget_l4endpoint_t';
  return {
    name, offset, kind: 'endpoint', size: type.size!, signed: false, typedefs: [structName, ...typedefs], cType: structName,
    endpoint: { l4, addr: find(/^addr/), version: find(/^version$/), port: find(/^port$/), proto: find(/^proto(_raw)?$/) },
  };
}
