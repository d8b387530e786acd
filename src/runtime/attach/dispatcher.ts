/**
 * IG's dispatcher convention for networking gadgets: the gadget's socket filter or classifier is
 * not attached itself. Per network namespace (socket filters) or per interface (classifiers), a
 * tiny program writes that namespace's inode into skb->cb[0] and tail-calls the gadget's program
 * through a one-slot program array; gadget/sockets-map.h reads the namespace from cb[0]. One
 * gadget program serves every namespace, loaded once.
 *
 * The dispatcher is nine instructions, assembled here (no compiler at run time).
 */
import { MapType, ProgType } from '../../model/kernel.js';
import { native } from '../native.js';

/** offsetof(struct __sk_buff, cb[0]) */
const SKB_CB0 = 48;
const BPF_FUNC_tail_call = 12;
/** what a tc dispatcher returns when the tail call fails (TC_ACT_UNSPEC: the next filter decides) */
const TC_ACT_UNSPEC = -1;

function insn(code: number, dst: number, src: number, off: number, imm: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = code;
  b[1] = (src << 4) | dst;
  b.writeInt16LE(off, 2);
  b.writeInt32LE(imm | 0, 4);
  return b;
}

function dispatcherInsns(progArrayFd: number, netns: number, ret: number): Buffer {
  return Buffer.concat([
    insn(0xb4, 2, 0, 0, netns >>> 0), // w2 = netns (32-bit move: an inode above 2^31 stays unsigned)
    insn(0x63, 1, 2, SKB_CB0, 0), // *(u32 *)(r1 + cb[0]) = w2
    insn(0x18, 2, 1, 0, progArrayFd), insn(0, 0, 0, 0, 0), // r2 = map fd (BPF_PSEUDO_MAP_FD)
    insn(0xb7, 3, 0, 0, 0), // r3 = 0
    insn(0x85, 0, 0, 0, BPF_FUNC_tail_call), // tail_call(r1, r2, r3)
    insn(0xb7, 0, 0, 0, ret), // r0 = ret
    insn(0x95, 0, 0, 0, 0), // exit
  ]);
}

/** The program array a gadget program is reached through, with that program in its only slot. */
export class TailCallTarget {
  readonly mapFd: number;

  constructor(readonly progType: number, gadgetProgFd: number, name: string) {
    const n = native();
    this.mapFd = n.mapCreate(MapType.PROG_ARRAY, 4, 4, 1, `ig_tc_${name}`); // the addon cuts it to a kernel map name
    const v = Buffer.alloc(4);
    v.writeUInt32LE(gadgetProgFd);
    try {
      n.mapUpdate(this.mapFd, Buffer.alloc(4), v, 0);
    } catch (err) {
      n.closeFd(this.mapFd);
      throw err;
    }
  }

  /** A dispatcher for network namespace `netns` (its fd; the caller closes it). */
  dispatcher(netns: number): number {
    const ret = this.progType === ProgType.SCHED_CLS ? TC_ACT_UNSPEC : 0;
    return native().progLoad(this.progType, dispatcherInsns(this.mapFd, netns, ret), { name: 'ig_net_disp' });
  }

  close(): void {
    native().closeFd(this.mapFd);
  }
}
