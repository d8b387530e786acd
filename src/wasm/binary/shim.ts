/**
 * The shim between a guest and the host's JavaScript: a small wasm module exporting every `ig`
 * function with IG's types, each calling a JavaScript function whose i64 arguments arrive split
 * into two i32s (low, high) and whose i64 result comes back as the low i32 plus a global holding
 * the high half. A JavaScript function taking or returning an i64 directly would make a BigInt
 * per call; through the shim the per-record path (fieldGetScalar, fieldSet) allocates nothing,
 * and an IG "string" argument (length << 32 | address) arrives as (address, length).
 *
 * The module is generated here from the API table (abi.ts), once per process.
 */
import { Writer } from './bytes.js';
import type { FuncType } from './module.js';

const I32 = 0x7f;
const I64 = 0x7e;

export const SHIM_JS_MODULE = 'js';
export const SHIM_HI_GLOBAL = 'hi';

/** The JavaScript side's type for one API function: i64 params split, an i64 result as i32. */
function jsType(t: FuncType): FuncType {
  return {
    params: t.params.flatMap((p) => (p === 'i64' ? ['i32', 'i32'] : [p])) as FuncType['params'],
    results: t.results.map(() => 'i32') as FuncType['results'],
  };
}

function code(t: FuncType['params'][number]): number {
  if (t === 'i32') return I32;
  if (t === 'i64') return I64;
  throw new Error(`shim: unsupported type ${t}`);
}

export function buildShim(fns: Record<string, FuncType>): Uint8Array {
  const names = Object.keys(fns);
  const types: FuncType[] = [];
  const typeIndex = (t: FuncType) => {
    const key = JSON.stringify(t);
    let i = types.findIndex((x) => JSON.stringify(x) === key);
    if (i < 0) i = types.push(t) - 1;
    return i;
  };
  const jsTypes = names.map((n) => typeIndex(jsType(fns[n]!)));
  const igTypes = names.map((n) => typeIndex(fns[n]!));

  const section = (w: Writer, id: number, body: Writer) => w.u8(id).sized(body.result());
  const out = new Writer().bytes([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);

  const typeSec = new Writer().u32(types.length);
  for (const t of types) {
    typeSec.u8(0x60).u32(t.params.length);
    for (const p of t.params) typeSec.u8(code(p));
    typeSec.u32(t.results.length);
    for (const r of t.results) typeSec.u8(code(r));
  }
  section(out, 1, typeSec);

  const imports = new Writer().u32(names.length + 1);
  names.forEach((n, i) => imports.name(SHIM_JS_MODULE).name(n).u8(0).u32(jsTypes[i]!));
  imports.name(SHIM_JS_MODULE).name(SHIM_HI_GLOBAL).u8(3).u8(I32).u8(1);
  section(out, 2, imports);

  const funcs = new Writer().u32(names.length);
  for (const t of igTypes) funcs.u32(t);
  section(out, 3, funcs);

  const exports = new Writer().u32(names.length);
  names.forEach((n, i) => exports.name(n).u8(0).u32(names.length + i));
  section(out, 7, exports);

  const bodies = new Writer().u32(names.length);
  names.forEach((n, i) => {
    const t = fns[n]!;
    const b = new Writer().u32(0); // no locals
    t.params.forEach((p, k) => {
      if (p === 'i64') {
        // low half, then high half
        b.u8(0x20).u32(k).u8(0xa7);
        b.u8(0x20).u32(k).u8(0x42).u8(32).u8(0x88).u8(0xa7);
      } else {
        b.u8(0x20).u32(k);
      }
    });
    b.u8(0x10).u32(i);
    if (t.results[0] === 'i64') {
      // (u64) low | (u64) hi << 32; hi = 0
      b.u8(0xad).u8(0x23).u32(0).u8(0xad).u8(0x42).u8(32).u8(0x86).u8(0x84);
      b.u8(0x41).u8(0).u8(0x24).u32(0);
    }
    b.u8(0x0b);
    bodies.sized(b.result());
  });
  section(out, 10, bodies);
  return out.result();
}
