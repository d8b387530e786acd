// Edit what a compiled object's BTF says about a struct, for tests of crafted objects that no
// compiler emits (clang cannot make a struct of 4 GiB: it counts member offsets in 32-bit bits).
// The ELF and BTF walking is the fuzz harness's (fuzz/lib/elf.js, fuzz/lib/btf.js).
// @ts-expect-error plain JS module without types
import { sections } from '../../fuzz/lib/elf.js';
// @ts-expect-error plain JS module without types
import { KIND, btfTypes } from '../../fuzz/lib/btf.js';

/** A copy of `elf` where BTF struct `name` claims `size` bytes. */
export function withStructSize(elf: Buffer, name: string, size: number): Buffer {
  const out = Buffer.from(elf);
  const btf = (sections(out) as Map<string, [number, number]>).get('.BTF');
  if (!btf) throw new Error('no .BTF section');
  const t = (btfTypes(out, btf) as { at: number; kind: number; name: string }[]).find((x) => x.kind === KIND.STRUCT && x.name === name);
  if (!t) throw new Error(`no struct ${name} in the BTF`);
  out.writeUInt32LE(size, t.at + 8);
  return out;
}
