import type { MapInfo, ProgramInfo, BtfType } from '../../native/index.js';
import { BtfSpec } from '../btf/spec.js';
import { flatten } from '../btf/layout.js';
import { compileLayout, type CompiledLayout } from '../btf/decoder.js';
import { IgError } from '../errors.js';
import { MapType, HASH_LIKE, ARRAY_LIKE } from '../model/kernel.js';
import type { FieldDesc, GadgetKind } from '../model/field.js';
import { annotateFields, type GadgetMetadata } from './metadata.js';
import { findParams, findWasmParams, type ParamSpec } from './params.js';

/** Where a datasource's records come from. */
export type SourceSpec =
  | { type: 'stream'; map: string; buffer: 'ringbuf' | 'perf'; structTypeId: number; lostMap?: string }
  | {
      type: 'map'; map: string; keyTypeId: number; valueTypeId: number; drain: boolean;
      /** where the value starts in a record (key first, then the value at the next multiple of 8) */
      valueOffset?: number;
      /** the value's numbers (offsets within the value): what per-CPU values are summed over */
      numbers?: readonly { offset: number; size: number; float: boolean; signed: boolean }[];
    }
  | { type: 'iter-text'; programs: string[] }
  | { type: 'iter-typed'; programs: string[]; structTypeId: number };

export interface DataSourceSpec {
  name: string;
  kind: GadgetKind;
  source: SourceSpec;
  /** which convention found it, for `image inspect` */
  convention: 'map-name' | 'marker';
  /**
   * how to read a record (absent for text iterators, whose fields come from the records). A
   * topper's record is its map entry: the key, then the value (per-CPU values already summed).
   */
  layout?: CompiledLayout;
  /** bytes of one record */
  recordSize?: number;
  /** the layout's fields with gadget.yaml's annotations */
  fields: FieldDesc[];
  /** gadget.yaml's annotations of the datasource */
  annotations: Record<string, string>;
}

export interface MetricMapSpec { map: string; metric: 'counter' | 'gauge' | 'histogram'; name: string; keyTypeId: number; valueTypeId: number }

/** Everything the runtime needs to know about one gadget, derived from its object and gadget.yaml. */
export interface GadgetSpec {
  datasources: DataSourceSpec[];
  params: ParamSpec[];
  programs: ProgramInfo[];
  maps: MapInfo[];
  metrics: MetricMapSpec[];
  btf: BtfSpec;
  metadata: GadgetMetadata | null;
  /** the kind of the first datasource, or null for a gadget with no output (e.g. metrics only) */
  kind: GadgetKind | null;
  /** the image's wasm module (layer application/vnd.gadget.wasm.program.v1+binary), run by src/wasm/ */
  wasm?: WasmModuleBytes;
}

/** A wasm layer: its bytes and digest (the compiled-module cache's key). */
export interface WasmModuleBytes {
  bytes: Buffer;
  digest: string;
  /** the image it came from, for messages */
  image: string;
}

export interface ObjectInfo {
  maps: MapInfo[];
  programs: ProgramInfo[];
  btf: BtfType[];
  /** initial bytes of a data section (`.rodata`), for params' defaults */
  sectionBytes?: (section: string) => Buffer | undefined;
  /** params the runtime adds for how it attaches (`--iface`, `--cgroup`), after the gadget's own */
  runtimeParams?: ParamSpec[];
}

const isIter = (p: ProgramInfo) => p.section.startsWith('iter/') || p.section.startsWith('iter.s/');

/**
 * Classify a gadget and describe its datasources. Both conventions of
 * spec/ebpf-conventions.md are read; markers (today's IG) come first, and
 * the `print_` map names (the original design) add whatever markers did not name.
 * The spec is read-only once built (frozen): each run keeps its own view of the datasources.
 */
export function buildGadgetSpec(info: ObjectInfo, metadata: GadgetMetadata | null, wasm?: WasmModuleBytes): GadgetSpec {
  const btf = new BtfSpec(info.btf);
  const mapByName = new Map(info.maps.map((m) => [m.name, m]));
  const progByName = new Map(info.programs.map((p) => [p.name, p]));
  const vars = btf.variableNames();
  const out: DataSourceSpec[] = [];
  const claimedMaps = new Set<string>();

  const requireMap = (name: string, marker: string): MapInfo => {
    const m = mapByName.get(name);
    if (!m) throw new IgError('invalid-object', `marker ${marker} names map "${name}", which the object does not define`);
    return m;
  };
  const requireStruct = (name: string, marker: string): number => {
    const t = btf.findStruct(name);
    if (!t) throw new IgError('invalid-object', `marker ${marker} names struct "${name}", which has no BTF in the object`);
    return t.id;
  };

  for (const v of vars) {
    let m: RegExpMatchArray | null;
    if ((m = v.match(/^gadget_(tracer|topper)_(.+?)___(.+?)___(.+)$/))) {
      const [, what, name, mapName, struct] = m;
      const map = requireMap(mapName, v);
      claimedMaps.add(mapName);
      const structTypeId = requireStruct(struct, v);
      if (what === 'tracer') {
        out.push(streamSource(name, map, structTypeId, mapByName, 'marker'));
      } else {
        out.push({ name, kind: 'topper', convention: 'marker', fields: [], annotations: {},
          source: { type: 'map', map: mapName, keyTypeId: map.btfKeyTypeId, valueTypeId: structTypeId, drain: false } });
      }
    } else if ((m = v.match(/^gadget_(?:iter|snapshotter)_(.+?)___(.+?)___(.+)$/))) {
      const [, name, struct, progs] = m;
      const programs = progs.split('___');
      for (const p of programs) {
        if (!progByName.has(p)) throw new IgError('invalid-object', `marker ${v} names program "${p}", which the object does not define`);
      }
      out.push({ name, kind: 'snapshotter', convention: 'marker', fields: [], annotations: {},
        source: { type: 'iter-typed', programs, structTypeId: requireStruct(struct, v) } });
    } else if ((m = v.match(/^gadget_mapiter_(.+?)___(.+)$/))) {
      const [, name, mapName] = m;
      const map = requireMap(mapName, v);
      claimedMaps.add(mapName);
      if (!map.btfKeyTypeId || !map.btfValueTypeId) {
        throw new IgError('invalid-object', `map "${mapName}" of ${v} has no BTF key/value types`, {
          hint: 'declare it with __type(key, …) and __type(value, …)',
        });
      }
      out.push({ name, kind: 'topper', convention: 'marker', fields: [], annotations: {},
        source: { type: 'map', map: mapName, keyTypeId: map.btfKeyTypeId, valueTypeId: map.btfValueTypeId, drain: true } });
    }
  }

  for (const map of info.maps) {
    if (!map.name.startsWith('print_') || claimedMaps.has(map.name)) continue;
    const name = map.name.slice('print_'.length) || map.name;
    if (map.type === MapType.RINGBUF || map.type === MapType.PERF_EVENT_ARRAY) {
      let typeId = map.btfValueTypeId;
      if (!typeId) {
        const unused = btf.findVariable(`unused_${map.name}`);
        if (unused) typeId = pointee(btf, unused.typeId);
      }
      if (!typeId) {
        throw new IgError('invalid-object', `tracer map "${map.name}" has no record type`, {
          hint: `declare __type(value, struct event) on the map, or a global "const struct event *unused_${map.name} __attribute__((unused));"`,
        });
      }
      out.push(streamSource(name, map, typeId, mapByName, 'map-name'));
    } else if (HASH_LIKE.has(map.type) || ARRAY_LIKE.has(map.type)) {
      if (!map.btfKeyTypeId || !map.btfValueTypeId) {
        throw new IgError('invalid-object', `topper map "${map.name}" has no BTF key/value types`);
      }
      out.push({ name, kind: 'topper', convention: 'map-name', fields: [], annotations: {},
        source: { type: 'map', map: map.name, keyTypeId: map.btfKeyTypeId, valueTypeId: map.btfValueTypeId, drain: false } });
    } else {
      throw new IgError('invalid-object', `map "${map.name}" starts with print_ but is neither a ring/perf buffer nor a hash/array map`);
    }
  }

  // Iterators not named by a marker: snapshotters of the original design.
  const claimedProgs = new Set(out.flatMap((d) => (d.source.type.startsWith('iter') ? (d.source as { programs: string[] }).programs : [])));
  for (const p of info.programs.filter(isIter)) {
    if (claimedProgs.has(p.name)) continue;
    const typed = btf.findVariable(`${p.name}_output`);
    const structTypeId = typed ? btf.resolve(typed.typeId).type?.id : undefined;
    out.push(structTypeId
      ? { name: p.name, kind: 'snapshotter', convention: 'map-name', fields: [], annotations: {}, source: { type: 'iter-typed', programs: [p.name], structTypeId } }
      : { name: p.name, kind: 'snapshotter', convention: 'map-name', fields: [], annotations: {}, source: { type: 'iter-text', programs: [p.name] } });
  }

  for (const ds of out) compileSource(btf, ds, metadata, mapByName);
  for (const ds of out) ds.annotations = metadata?.datasources?.[ds.name]?.annotations ?? {};
  checkDataSections(btf, mapByName);
  const params = findParams(btf, metadata, info.sectionBytes ?? (() => undefined));
  for (const p of params) {
    if (!mapByName.get(p.section)?.internal) {
      throw new IgError('invalid-object', `param "${p.variable}" is in section ${p.section || '(none)'}, which the object has no data map for`, {
        hint: 'declare params as "const volatile" globals (in .rodata); the object may be damaged',
      });
    }
  }

  const metrics = findMetricMaps(info.maps);
  // a gadget with a wasm module may show only what the module makes of the kernel's data (its own datasources)
  if (out.length === 0 && metrics.length === 0 && !wasm) {
    throw new IgError('invalid-object', 'the object has no output the runtime recognizes', {
      hint: 'a gadget needs a print_ map, a GADGET_TRACER/GADGET_MAPITER/GADGET_ITER marker, an iter/ program, counter_/gauge_/hist_ maps, or a wasm module',
    });
  }
  return deepFreeze({
    datasources: out, params: [...params, ...(info.runtimeParams ?? []), ...(wasm ? findWasmParams(metadata) : [])], programs: info.programs, maps: info.maps,
    metrics, btf, metadata, kind: out[0]?.kind ?? null, ...(wasm ? { wasm } : {}),
  });
}

/** Freeze the plain data of a spec (the BTF table and compiled functions are left as they are). */
function deepFreeze<T>(o: T): T {
  const seen = new Set<unknown>();
  const walk = (v: unknown) => {
    if (v === null || typeof v !== 'object' || seen.has(v) || v instanceof BtfSpec || ArrayBuffer.isView(v)) return;
    seen.add(v);
    for (const x of Object.values(v)) walk(x);
    Object.freeze(v);
  };
  walk(o);
  return o;
}

function streamSource(name: string, map: MapInfo, structTypeId: number, maps: Map<string, MapInfo>, convention: 'map-name' | 'marker'): DataSourceSpec {
  if (map.type !== MapType.RINGBUF && map.type !== MapType.PERF_EVENT_ARRAY) {
    throw new IgError('invalid-object', `tracer map "${map.name}" must be a RINGBUF or PERF_EVENT_ARRAY map`);
  }
  const lostMap = maps.has(`${map.name}_lost_samples`) ? `${map.name}_lost_samples` : undefined;
  return { name, kind: 'tracer', convention, fields: [], annotations: {},
    source: { type: 'stream', map: map.name, buffer: map.type === MapType.RINGBUF ? 'ringbuf' : 'perf', structTypeId, lostMap } };
}

function pointee(btf: BtfSpec, typeId: number): number {
  const { type } = btf.resolve(typeId);
  if (type?.kind !== 'ptr') return 0;
  return btf.resolve(type.type ?? 0).type?.id ?? 0;
}

function compileSource(btf: BtfSpec, ds: DataSourceSpec, meta: GadgetMetadata | null, maps: Map<string, MapInfo>): void {
  const s = ds.source;
  if (s.type === 'stream' || s.type === 'iter-typed') {
    ds.layout = compileLayout(flatten(btf, s.structTypeId));
    ds.recordSize = btf.sizeOf(s.structTypeId);
    ds.fields = annotateFields(meta, ds.name, ds.layout.fields);
  } else if (s.type === 'map') {
    // Toppers show keys and values; a struct key flattens to its members, a scalar key is named "key".
    // One record holds the key, then the value at the next multiple of 8.
    const keySize = btf.sizeOf(s.keyTypeId);
    const valueOffset = Math.ceil(keySize / 8) * 8;
    const keyLeaves = flatten(btf, s.keyTypeId, isStruct(btf, s.keyTypeId) ? '' : 'key').map((l) => ({ ...l, tags: ['key'] }));
    const valueLeaves = flatten(btf, s.valueTypeId, isStruct(btf, s.valueTypeId) ? '' : 'value');
    const shifted = valueLeaves.map((l) => ({
      ...l, offset: l.offset + valueOffset, tags: ['value'],
      ...(l.bitOffset === undefined ? {} : { bitOffset: l.bitOffset + valueOffset * 8 }),
    }));
    // The decoders read this many bytes of each key and value the kernel hands over: no more than the map holds.
    const map = maps.get(s.map)!;
    const valueSize = btf.sizeOf(s.valueTypeId);
    for (const [part, size, have, id] of [['key', keySize, map.keySize, s.keyTypeId], ['value', valueSize, map.valueSize, s.valueTypeId]] as const) {
      if (size > have) {
        throw new IgError('invalid-object', `the ${part} type ${btf.describe(id)} of datasource ${ds.name} is ${size} bytes, but map "${s.map}" holds ${have}-byte ${part}s`, {
          hint: `declare the map with __type(${part}, …) of the struct the gadget names`,
        });
      }
    }
    ds.layout = compileLayout([...keyLeaves, ...shifted]);
    ds.recordSize = valueOffset + valueSize;
    ds.fields = annotateFields(meta, ds.name, ds.layout.fields);
    s.valueOffset = valueOffset;
    s.numbers = valueLeaves
      .filter((l) => (l.kind === 'int' && [1, 2, 4, 8].includes(l.size)) || l.kind === 'float')
      .map((l) => ({ offset: l.offset, size: l.size, float: l.kind === 'float', signed: l.signed }));
  }
}

/**
 * Every global the runtime may write before load (params, filter flags) must lie inside its data
 * section as the object really has it, else setting it would write outside (a damaged object).
 */
function checkDataSections(btf: BtfSpec, maps: Map<string, MapInfo>): void {
  for (const sec of btf.types) {
    // .kconfig/.ksyms are laid out by libbpf itself; only sections the object carries count.
    const map = sec.kind === 'datasec' && /^\.(rodata|data|bss)(\.|$)/.test(sec.name) ? maps.get(sec.name) : undefined;
    if (!map?.internal) continue;
    for (const v of sec.vars ?? []) {
      const t = btf.get(v.type);
      const typeSize = t.kind === 'var' ? btf.sizeOf(t.type ?? 0) : v.size;
      if (v.size <= 0 || v.size !== typeSize) {
        throw new IgError('invalid-object', `global ${btf.describe(v.type)} takes ${v.size} bytes in section ${sec.name}, but its type has ${typeSize}`, {
          hint: 'the object\'s BTF does not match its sections (damaged or crafted); rebuild the gadget',
        });
      }
      if (v.offset + v.size > map.valueSize) {
        throw new IgError('invalid-object', `global ${btf.describe(v.type)} lies outside section ${sec.name} (bytes ${v.offset}..${v.offset + v.size} of ${map.valueSize})`, {
          hint: 'the object\'s BTF does not match its sections (damaged or crafted); rebuild the gadget',
        });
      }
    }
  }
}

function isStruct(btf: BtfSpec, id: number): boolean {
  const k = btf.resolve(id).type?.kind;
  return k === 'struct' || k === 'union';
}

function findMetricMaps(maps: MapInfo[]): MetricMapSpec[] {
  const out: MetricMapSpec[] = [];
  for (const m of maps) {
    const hit = m.name.match(/^(counter|gauge|hist)_(.+)$/);
    if (!hit || !(HASH_LIKE.has(m.type) || ARRAY_LIKE.has(m.type))) continue;
    out.push({ map: m.name, metric: hit[1] === 'hist' ? 'histogram' : (hit[1] as 'counter' | 'gauge'), name: hit[2],
      keyTypeId: m.btfKeyTypeId, valueTypeId: m.btfValueTypeId });
  }
  return out;
}

/** A param an operator of operator-only gadgets takes (bpfstats: --statistics-interval). */
export interface OperatorParam { key: string; description?: string; defaultValue?: string }

/**
 * The spec of an operator-only image (gadget.yaml alone, as IG's top_process and bpfstats): no
 * program, no datasource of its own; operators named in gadget.yaml's `operator:` make them.
 * `params.custom` of gadget.yaml become params the operators read.
 */
export function operatorOnlySpec(metadata: GadgetMetadata | null, known: Readonly<Record<string, readonly OperatorParam[]>>): GadgetSpec {
  const names = Object.keys(metadata?.operator ?? {});
  if (!names.some((n) => n in known)) {
    throw new IgError('invalid-image', `the image has no eBPF program and its gadget.yaml names no operator ig has${names.length ? ` (it names ${names.join(', ')})` : ''}`, {
      hint: `an operator-only gadget names one of: ${Object.keys(known).join(', ')} under "operator:"`,
    });
  }
  const custom = Object.entries(metadata?.params?.custom ?? {});
  for (const n of names) for (const p of known[n] ?? []) if (!custom.some(([k]) => k === p.key)) custom.push([p.key, p]);
  const params: ParamSpec[] = custom.map(([key, p]) => ({
    key, variable: '', section: '', offset: -1, size: 0, kind: 'string', runtime: true,
    description: p.description, defaultValue: p.defaultValue === undefined ? undefined : String(p.defaultValue),
    default: p.defaultValue === undefined ? '' : String(p.defaultValue),
  }));
  return deepFreeze({ datasources: [], params, programs: [], maps: [], metrics: [], btf: new BtfSpec([]), metadata, kind: null });
}
