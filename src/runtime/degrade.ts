/**
 * "Degrade instead of refuse": with --skip-unsupported-programs, a program whose kernel feature
 * is missing (a kprobe where the kernel has no CONFIG_KPROBES, an fentry without trampolines) is
 * left out and the gadget runs with the others. The user is told which program, why, and which
 * fields will stay empty: the record fields only that program writes.
 *
 * Which fields a program writes is read from its instructions: the offsets it stores at through
 * a pointer (`*(u32 *)(r6 + 24) = r1`) or hands to a helper (`r1 = r6; r1 += 24`), matched
 * against the record layouts; a field another kept program also touches is not named. A
 * heuristic, but one that errs towards naming fewer fields, never inventing one.
 */
import type { BpfObject } from '../../native/index.js';
import type { GadgetSpec } from '../gadget/spec.js';
import { flatten } from '../btf/layout.js';

const BPF_STX = 0x03, BPF_ST = 0x02, BPF_MEM = 0x60, BPF_ALU64 = 0x07, BPF_ADD = 0x00, BPF_K = 0x00, R10 = 10;

/** Byte offsets a program writes at through pointers (not its stack). */
function touchedOffsets(insns: Buffer): Set<number> {
  const out = new Set<number>();
  for (let i = 0; i + 8 <= insns.length; i += 8) {
    const code = insns[i]!, dst = insns[i + 1]! & 0xf, off = insns.readInt16LE(i + 2), imm = insns.readInt32LE(i + 4);
    const cls = code & 0x07;
    if ((cls === BPF_STX || cls === BPF_ST) && (code & 0xe0) === BPF_MEM && dst !== R10 && off > 0) out.add(off);
    if (cls === BPF_ALU64 && (code & 0xf0) === BPF_ADD && (code & 0x08) === BPF_K && dst !== R10 && imm > 0) out.add(imm);
  }
  return out;
}

/** Fields (datasource.field) that only `prog` of the gadget's programs writes. */
export function fieldsOnlyWrittenBy(obj: BpfObject, spec: GadgetSpec, prog: string): string[] {
  const mine = touchedOffsets(obj.programInsns(prog));
  const others = new Set<number>();
  for (const p of spec.programs) if (p.name !== prog) for (const o of touchedOffsets(obj.programInsns(p.name))) others.add(o);
  const out: string[] = [];
  for (const ds of spec.datasources) {
    const s = ds.source;
    if (s.type !== 'stream' && s.type !== 'iter-typed') continue;
    for (const leaf of flatten(spec.btf, s.structTypeId)) {
      if (leaf.offset === 0 || !mine.has(leaf.offset) || others.has(leaf.offset)) continue;
      out.push(leaf.name.replace(/_raw$/, ''));
    }
  }
  return out;
}
