/**
 * Walking WebAssembly instructions (MVP, sign extension, saturating conversions, bulk memory,
 * reference types, multi-value, SIMD, threads' atomics, tail calls, legacy exception handling)
 * to copy an expression while rewriting what the host needs changed:
 *   - function indices (`call`, `return_call`, `ref.func`) shift when an import is added;
 *   - an interrupt check goes in after every `loop` header (see interrupt.ts).
 * Anything else (GC, the newer exception handling, unknown opcodes) is refused by name: ig
 * cannot bound the time of code it cannot read.
 */
import { Reader, Writer, WasmFormatError } from './bytes.js';

export interface CodeRewrite {
  /** new index of function `i` */
  func(i: number): number;
  /** bytes to put right after each loop header (empty: none) */
  afterLoop: Uint8Array;
}

/** What a walk saw, so a function's entry check can be skipped when it cannot run long. */
export interface CodeFacts {
  loops: number;
  calls: number;
}

const SIMD_MEMARG = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 92, 93]);
const SIMD_MEMARG_LANE = new Set([84, 85, 86, 87, 88, 89, 90, 91]);

function memarg(r: Reader): void {
  const align = r.u32();
  if (align & 0x40) r.u32(); // multi-memory: a memory index follows
  r.u32(); // offset (memory64 is refused with the memory section)
}

function blockType(r: Reader): void {
  const t = r.s33();
  // (ref null? ht) value types of the GC proposal would need their heap type read
  if (t === -28 || t === -29) r.fail('GC reference block types are not supported');
}

/**
 * Copy one expression (a function body's instructions, or a constant expression) from `r` into
 * `w`, rewriting as `rw` says, up to and including its final `end`.
 */
export function copyExpr(r: Reader, w: Writer, rw: CodeRewrite, facts: CodeFacts = { loops: 0, calls: 0 }): CodeFacts {
  let depth = 0;
  let from = r.pos; // start of bytes not yet copied
  const flush = (to: number) => {
    if (to > from) w.bytes(r.buf.subarray(from, to));
  };
  for (;;) {
    const at = r.pos;
    const op = r.u8();
    switch (op) {
      case 0x02: case 0x04: case 0x06: // block, if, try
        blockType(r);
        depth++;
        break;
      case 0x03: // loop
        blockType(r);
        depth++;
        facts.loops++;
        if (rw.afterLoop.length) {
          flush(r.pos);
          w.bytes(rw.afterLoop);
          from = r.pos;
        }
        break;
      case 0x0b: // end
        if (depth-- === 0) {
          flush(r.pos);
          return facts;
        }
        break;
      case 0x18: // delegate: ends a try block
        r.u32();
        depth--;
        break;
      case 0x10: case 0x12: case 0xd2: { // call, return_call, ref.func
        const idx = r.u32();
        if (op !== 0xd2) facts.calls++;
        const to = rw.func(idx);
        if (to !== idx) {
          flush(at);
          w.u8(op).u32(to);
          from = r.pos;
        }
        break;
      }
      case 0x11: case 0x13: // call_indirect, return_call_indirect: type, table
        facts.calls++;
        r.u32();
        r.u32();
        break;
      case 0x14: case 0x15: // call_ref, return_call_ref
        facts.calls++;
        r.u32();
        break;
      case 0x00: case 0x01: case 0x05: case 0x0f: case 0x19: case 0x1a: case 0x1b: case 0xd1: case 0xd3:
        break;
      case 0x07: case 0x08: case 0x09: case 0x0c: case 0x0d: case 0xd4: case 0xd6:
      case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26:
        r.u32();
        break;
      case 0x0e: { // br_table
        const n = r.u32();
        for (let i = 0; i <= n; i++) r.u32();
        break;
      }
      case 0x1c: { // select with types
        const n = r.u32();
        for (let i = 0; i < n; i++) blockType(r);
        break;
      }
      case 0x3f: case 0x40: // memory.size, memory.grow
        r.u32();
        break;
      case 0x41: r.skipLeb(32); break;
      case 0x42: r.skipLeb(64); break;
      case 0x43: r.skip(4); break;
      case 0x44: r.skip(8); break;
      case 0xd0: r.s33(); break; // ref.null heaptype
      case 0xfc: prefixFC(r); break;
      case 0xfd: prefixFD(r); break;
      case 0xfe: prefixFE(r); break;
      default:
        if (op >= 0x28 && op <= 0x3e) memarg(r);
        else if (op >= 0x45 && op <= 0xc4) { /* numeric, no immediates */ }
        else throw new WasmFormatError(`instruction 0x${op.toString(16)} (${unsupportedName(op)}) at byte ${at} is not supported`);
    }
  }
}

function prefixFC(r: Reader): void {
  const sub = r.u32();
  if (sub <= 7) return; // saturating truncations
  switch (sub) {
    case 8: case 10: case 12: case 14: r.u32(); r.u32(); return; // memory.init, memory.copy, table.init, table.copy
    case 9: case 11: case 13: case 15: case 16: case 17: r.u32(); return;
  }
  r.fail(`instruction 0xfc ${sub} is not supported`);
}

function prefixFD(r: Reader): void {
  const sub = r.u32();
  if (SIMD_MEMARG.has(sub)) memarg(r);
  else if (SIMD_MEMARG_LANE.has(sub)) { memarg(r); r.skip(1); }
  else if (sub === 12 || sub === 13) r.skip(16); // v128.const, i8x16.shuffle
  else if (sub >= 21 && sub <= 34) r.skip(1); // extract/replace lane
  else if (sub > 0x113) r.fail(`SIMD instruction ${sub} is not supported`);
}

function prefixFE(r: Reader): void {
  const sub = r.u32();
  if (sub === 3) r.skip(1); // atomic.fence
  else if (sub <= 2 || (sub >= 0x10 && sub <= 0x4e)) memarg(r);
  else r.fail(`atomic instruction ${sub} is not supported`);
}

function unsupportedName(op: number): string {
  if (op === 0xfb) return 'the GC proposal';
  if (op === 0x0a || op === 0x1f) return 'the new exception handling';
  return 'unknown';
}
