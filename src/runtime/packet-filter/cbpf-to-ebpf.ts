/**
 * Classic BPF (what libpcap's pcap_compile makes of a filter expression) translated to eBPF
 * instructions that run at the start of a GADGET_PF subprogram (gadget/packetfilter.h), the
 * calling convention IG's cbpfc-based injection uses: on entry r1 = r2 = r3 = the skb (a context
 * pointer), r4 = skb->data, r5 = skb->data_end. The code leaves r1 = r2 = r3 = r5 = 0 and r4 =
 * (packet matches ? 1 : 0), then falls into the function's own body, which returns
 * `data != data_end && _skb == __skb && __skb == ___skb`, i.e. the filter's verdict.
 *
 * Registers: A in r6, X in r7, packet start in r8, end in r9 (a subprogram may use r6-r9: the
 * caller's are preserved across calls), r1/r2 scratch; the scratch memory M[0..15] on the stack.
 * Every packet load is bounds-checked against data_end (a load past it rejects the packet, as in
 * classic BPF), in the shape the verifier accepts for direct packet access.
 */
import { IgError } from '../../errors.js';

interface CbpfInsn { code: number; jt: number; jf: number; k: number }

/** 8 bytes per instruction, host (little-endian) order, as libpcap's struct bpf_insn. */
export function parseCbpf(buf: Buffer): CbpfInsn[] {
  const out: CbpfInsn[] = [];
  for (let o = 0; o + 8 <= buf.length; o += 8) {
    out.push({ code: buf.readUInt16LE(o), jt: buf[o + 2]!, jf: buf[o + 3]!, k: buf.readUInt32LE(o + 4) });
  }
  return out;
}

// classic BPF fields
const C = { LD: 0, LDX: 1, ST: 2, STX: 3, ALU: 4, JMP: 5, RET: 6, MISC: 7 } as const;
const SIZE = { 0x00: 4, 0x08: 2, 0x10: 1 } as Record<number, number>;
const MODE = { IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, LEN: 0x80, MSH: 0xa0 } as const;
const SRC_X = 0x08;
const OP = { DIV: 0x30, NEG: 0x80, MOD: 0x90, JA: 0x00 } as const;

// eBPF encoding
const E = { LDX: 0x01, STX: 0x03, ALU: 0x04, JMP: 0x05, JMP32: 0x06, ALU64: 0x07, MEM: 0x60, K: 0x00, X: 0x08 } as const;
const ESIZE: Record<number, number> = { 4: 0x00, 2: 0x08, 1: 0x10 };
const MOV = 0xb0, ADD = 0x00, AND = 0x50, LSH = 0x60, JEQ = 0x10, JGT = 0x20, END_TO_BE = 0xd0 | 0x08;
const R = { A: 6, X: 7, DATA: 8, END: 9, T1: 1, T2: 2, FP: 10 } as const;
/** M[i] at fp-64+4i; the packet length (when the filter asks for it) at fp-72 */
const MEM_BASE = -64, LEN_SLOT = -72;
/** a packet is at most 64 KiB: offsets beyond cannot be in it */
const MAX_PACKET_OFF = 0xffff;

type Target = { insn: number } | 'reject' | 'verdict';
interface Insn { code: number; dst: number; src: number; off: number; imm: number; jumpTo?: Target }

/** eBPF for a classic BPF program; throws an IgError naming what it cannot translate. */
export function cbpfToEbpf(prog: readonly CbpfInsn[]): Buffer {
  const out: Insn[] = [];
  const emit = (code: number, dst: number, src: number, off: number, imm: number, jumpTo?: Target) => {
    out.push({ code, dst, src, off, imm: imm | 0, jumpTo });
  };
  const mov64 = (dst: number, src: number) => emit(E.ALU64 | MOV | E.X, dst, src, 0, 0);
  const movImm = (dst: number, imm: number) => emit(E.ALU | MOV | E.K, dst, 0, 0, imm);
  const jump = (to: Target) => emit(E.JMP | OP.JA, 0, 0, 0, 0, to);

  const usesLen = prog.some((i) => (i.code & 7) <= C.LDX && (i.code & 0xe0) === MODE.LEN);
  mov64(R.DATA, 4);
  mov64(R.END, 5);
  movImm(R.A, 0);
  movImm(R.X, 0);
  if (usesLen) {
    // __sk_buff.len is its first member; r1 is the skb here
    emit(E.LDX | E.MEM | ESIZE[4]!, R.T2, 1, 0, 0);
    emit(E.STX | E.MEM | ESIZE[4]!, R.FP, R.T2, LEN_SLOT, 0);
  }

  /** dst = the big-endian value of `size` bytes at packet offset T1 (already a packet pointer); rejects past the end */
  const loadAt = (dst: number, size: number) => {
    mov64(R.T2, R.T1);
    emit(E.ALU64 | ADD | E.K, R.T2, 0, 0, size);
    emit(E.JMP | JGT | E.X, R.T2, R.END, 0, 0, 'reject');
    emit(E.LDX | E.MEM | ESIZE[size]!, dst, R.T1, 0, 0);
    if (size > 1) emit(E.ALU | END_TO_BE, dst, 0, 0, size * 8);
  };
  const loadAbs = (dst: number, size: number, k: number) => {
    if (k > MAX_PACKET_OFF) return jump('reject');
    mov64(R.T1, R.DATA);
    if (k) emit(E.ALU64 | ADD | E.K, R.T1, 0, 0, k);
    loadAt(dst, size);
  };
  const loadInd = (size: number, k: number) => {
    mov64(R.T1, R.X);
    if (k) emit(E.ALU64 | ADD | E.K, R.T1, 0, 0, k);
    // a bounded offset: the verifier allows adding it to a packet pointer
    emit(E.JMP | JGT | E.K, R.T1, 0, 0, MAX_PACKET_OFF, 'reject');
    mov64(R.T2, R.DATA);
    emit(E.ALU64 | ADD | E.X, R.T2, R.T1, 0, 0);
    mov64(R.T1, R.T2);
    loadAt(R.A, size);
  };
  const memOff = (k: number, pc: number) => {
    if (k > 15) throw unsupported(`scratch memory M[${k}]`, pc);
    return MEM_BASE + 4 * k;
  };

  const starts: number[] = [];
  prog.forEach((i, pc) => {
    starts.push(out.length);
    const cls = i.code & 7;
    switch (cls) {
      case C.LD: case C.LDX: {
        const dst = cls === C.LD ? R.A : R.X;
        const mode = i.code & 0xe0;
        const size = SIZE[i.code & 0x18];
        if (mode === MODE.IMM) movImm(dst, i.k);
        else if (mode === MODE.MEM) emit(E.LDX | E.MEM | ESIZE[4]!, dst, R.FP, memOff(i.k, pc), 0);
        else if (mode === MODE.LEN) emit(E.LDX | E.MEM | ESIZE[4]!, dst, R.FP, LEN_SLOT, 0);
        else if (mode === MODE.ABS && cls === C.LD && size) loadAbs(R.A, size, i.k);
        else if (mode === MODE.IND && cls === C.LD && size) loadInd(size, i.k);
        else if (mode === MODE.MSH && cls === C.LDX) {
          loadAbs(R.X, 1, i.k);
          emit(E.ALU | AND | E.K, R.X, 0, 0, 0xf);
          emit(E.ALU | LSH | E.K, R.X, 0, 0, 2);
        } else throw unsupported(`load 0x${i.code.toString(16)}`, pc);
        break;
      }
      case C.ST: case C.STX:
        emit(E.STX | E.MEM | ESIZE[4]!, R.FP, cls === C.ST ? R.A : R.X, memOff(i.k, pc), 0);
        break;
      case C.ALU: {
        const op = i.code & 0xf0;
        if (op === OP.NEG) { emit(E.ALU | OP.NEG, R.A, 0, 0, 0); break; }
        const byX = (i.code & SRC_X) !== 0;
        // classic BPF rejects the packet on a division by zero; eBPF would give 0
        if (byX && (op === OP.DIV || op === OP.MOD)) emit(E.JMP | JEQ | E.K, R.X, 0, 0, 0, 'reject');
        emit(E.ALU | op | (byX ? E.X : E.K), R.A, byX ? R.X : 0, 0, byX ? 0 : i.k);
        break;
      }
      case C.JMP: {
        const op = i.code & 0xf0;
        if (op === OP.JA) { jump({ insn: pc + 1 + i.k }); break; }
        const byX = (i.code & SRC_X) !== 0;
        emit(E.JMP32 | op | (byX ? E.X : E.K), R.A, byX ? R.X : 0, 0, byX ? 0 : i.k, { insn: pc + 1 + i.jt });
        if (i.jf) jump({ insn: pc + 1 + i.jf });
        break;
      }
      case C.RET: {
        const rval = i.code & 0x18;
        if (rval === 0x00) emit(E.ALU64 | MOV | E.K, 4, 0, 0, i.k ? 1 : 0);
        else emit(E.ALU64 | MOV | E.X, 4, rval === 0x08 ? R.X : R.A, 0, 0);
        jump('verdict');
        break;
      }
      case C.MISC:
        if ((i.code & 0xf8) === 0x00) emit(E.ALU | MOV | E.X, R.X, R.A, 0, 0); // TAX
        else emit(E.ALU | MOV | E.X, R.A, R.X, 0, 0); // TXA
        break;
    }
  });
  // the verifier refuses unreachable code: a filter without packet loads has no rejecting path
  const reject = out.length;
  if (out.some((x) => x.jumpTo === 'reject')) emit(E.ALU64 | MOV | E.K, 4, 0, 0, 0);
  const verdict = out.length;
  for (const r of [1, 2, 3, 5]) emit(E.ALU64 | MOV | E.K, r, 0, 0, 0);

  const buf = Buffer.alloc(out.length * 8);
  out.forEach((x, at) => {
    let off = x.off;
    if (x.jumpTo) {
      const to = x.jumpTo === 'reject' ? reject : x.jumpTo === 'verdict' ? verdict : starts[x.jumpTo.insn];
      if (to === undefined) throw unsupported('a jump past the end', at);
      off = to - (at + 1);
    }
    buf[at * 8] = x.code;
    buf[at * 8 + 1] = (x.src << 4) | x.dst;
    buf.writeInt16LE(off, at * 8 + 2);
    buf.writeInt32LE(x.imm, at * 8 + 4);
  });
  return buf;
}

function unsupported(what: string, pc: number): IgError {
  return new IgError('usage', `the packet filter compiles to classic BPF this runtime cannot translate (${what} at instruction ${pc})`, {
    hint: 'simplify the --pf expression (Linux-specific extensions such as vlan/ifindex are not supported)',
  });
}
