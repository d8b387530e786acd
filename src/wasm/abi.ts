/**
 * IG's wasm gadget API, version 1, as a guest sees it: the `ig` import module's functions and
 * their types, the entry points a guest exports, and the numbers both sides share (field kinds,
 * subscription and datasource types, log levels, map types). The facts come from Inspektor
 * Gadget's pkg/operators/wasm and its guest libraries (wasmapi/go, wasmapi/rust);
 * spec/wasm-api.md documents each function.
 *
 * Conventions: a string or buffer argument is one i64, length << 32 | address (0 = the empty
 * string); handles are u32, 0 = none/error; most functions return 0 on success and 1 on error.
 */
import type { FuncType } from './binary/module.js';

export const API_VERSION = 1;
export const IMPORT_MODULE = 'ig';

/** The guest's entry points (all optional but gadgetAPIVersion), called in this order. */
export const ENTRY_POINTS = ['gadgetInit', 'gadgetPreStart', 'gadgetStart', 'gadgetStop', 'gadgetPostStop'] as const;
export type EntryPoint = (typeof ENTRY_POINTS)[number];

/** api.Kind of IG's gadget service */
export const Kind = {
  Invalid: 0, Bool: 1, Int8: 2, Int16: 3, Int32: 4, Int64: 5, Uint8: 6, Uint16: 7, Uint32: 8, Uint64: 9,
  Float32: 10, Float64: 11, String: 12, CString: 13, Bytes: 14,
} as const;
export const KIND_NAMES = Object.fromEntries(Object.entries(Kind).map(([k, v]) => [v, k.toLowerCase()])) as Record<number, string>;
/** Bytes of a scalar kind's value (undefined: not a scalar). */
export const KIND_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 2, 8: 4, 9: 8, 10: 4, 11: 8 };
/** The same as an array indexed by kind (0: not a scalar), for the per-record path. */
export const SCALAR_SIZE = Uint8Array.from({ length: 16 }, (_, k) => KIND_SIZE[k] ?? 0);

export const SubscriptionType = { Data: 1, Array: 2, Packet: 3 } as const;
export const DataSourceType = { Undefined: 0, Single: 1, Array: 2 } as const;
export const LogLevel = { Error: 0, Warn: 1, Info: 2, Debug: 3, Trace: 4 } as const;
/** as ig prints them: ig's own words for error and warning */
export const LOG_LEVEL_NAMES = ['error', 'warning', 'info', 'debug', 'trace'];

/** A data handle whose top bit is set names element `(h >> 16) & 0x7fff` of data array `h & 0xffff`. */
export const DATA_ARRAY_HANDLE_FLAG = 0x8000_0000;
export const MAX_HANDLES = 4096;

/** BPF map types a guest may name (cilium/ebpf's list up to Arena); FD arrays cannot be read or written. */
export const MAX_MAP_TYPE = 33;
export const FD_ARRAY_MAP_TYPES = new Set([3, 4, 8]); // prog array, perf event array, cgroup array
export const MAP_OF_MAPS_TYPES = new Set([12, 13]);
/** bpf_map_update_elem flags up to BPF_F_LOCK */
export const MAX_UPDATE_FLAGS = 4;

type T = 'i32' | 'i64';
const f = (params: T[], results: T[] = ['i32']): FuncType => ({ params, results });

/** Every function of the `ig` module, by group (the groups of spec/wasm-api.md). */
const API: Record<string, Record<string, FuncType>> = {
  log: {
    gadgetLog: f(['i32', 'i64'], []),
    gadgetShouldLog: f(['i32']),
  },
  datasources: {
    newDataSource: f(['i64', 'i32']),
    getDataSource: f(['i64']),
    dataSourceSubscribe: f(['i32', 'i32', 'i32', 'i64']),
    dataSourceGetField: f(['i32', 'i64']),
    dataSourceAddField: f(['i32', 'i64', 'i32']),
    dataSourceNewPacketSingle: f(['i32']),
    dataSourceNewPacketArray: f(['i32']),
    dataSourceEmitAndRelease: f(['i32', 'i32']),
    dataSourceRelease: f(['i32', 'i32']),
    dataSourceUnreference: f(['i32']),
    dataSourceIsReferenced: f(['i32']),
  },
  dataArrays: {
    dataArrayNew: f(['i32']),
    dataArrayAppend: f(['i32', 'i32']),
    dataArrayRelease: f(['i32', 'i32']),
    dataArrayLen: f(['i32']),
    dataArrayGet: f(['i32', 'i32']),
  },
  fields: {
    fieldGetScalar: f(['i32', 'i32', 'i32', 'i32'], ['i64']),
    fieldGetBuffer: f(['i32', 'i32', 'i32', 'i64']),
    fieldSet: f(['i32', 'i32', 'i32', 'i64']),
    fieldAddTag: f(['i32', 'i64']),
  },
  params: { getParamValue: f(['i64', 'i64']) },
  config: { setConfig: f(['i64', 'i64', 'i32']) },
  maps: {
    newMap: f(['i64', 'i32', 'i32', 'i32', 'i32']),
    getMap: f(['i64']),
    mapLookup: f(['i32', 'i64', 'i64']),
    mapUpdate: f(['i32', 'i64', 'i64', 'i64']),
    mapDelete: f(['i32', 'i64']),
    mapRelease: f(['i32']),
  },
  handles: { releaseHandle: f(['i32']) },
  syscalls: {
    getSyscallName: f(['i32', 'i64']),
    getSyscallID: f(['i64']),
    getSyscallDeclaration: f(['i64', 'i64']),
  },
  perf: {
    newPerfReader: f(['i32', 'i32', 'i32']),
    perfReaderPause: f(['i32']),
    perfReaderResume: f(['i32']),
    perfReaderRead: f(['i32', 'i64']),
    perfReaderClose: f(['i32']),
  },
  kallsyms: { kallsymsSymbolExists: f(['i64']) },
  filter: { shouldDiscardMntnsID: f(['i64']) },
};

/** name → type, all groups */
export const API_FUNCTIONS: Record<string, FuncType> = Object.assign({}, ...Object.values(API));

export function typeText(t: FuncType): string {
  return `(${t.params.join(', ')}) -> ${t.results.length ? t.results.join(', ') : '()'}`;
}
