/** An ELF64 little-endian file's section headers: what `ig image inspect` lists and the build checks. */

export interface ElfSection { name: string; type: string; size: number }

const SHT: Record<number, string> = {
  0: 'null', 1: 'progbits', 2: 'symtab', 3: 'strtab', 4: 'rela', 8: 'nobits', 9: 'rel', 0x6fff4c03: 'llvm_addrsig',
};

/** The sections, in file order (empty when the headers lie outside the file). */
export function elfSections(b: Buffer): ElfSection[] {
  try {
    const shoff = Number(b.readBigUInt64LE(0x28));
    const shentsize = b.readUInt16LE(0x3a);
    const shnum = b.readUInt16LE(0x3c);
    const strtab = shoff + b.readUInt16LE(0x3e) * shentsize;
    const strOff = Number(b.readBigUInt64LE(strtab + 0x18));
    const out: ElfSection[] = [];
    for (let i = 0; i < shnum; i++) {
      const h = shoff + i * shentsize;
      const start = strOff + b.readUInt32LE(h);
      const type = b.readUInt32LE(h + 4);
      out.push({ name: b.toString('latin1', start, b.indexOf(0, start)), type: SHT[type] ?? `0x${type.toString(16)}`, size: Number(b.readBigUInt64LE(h + 0x20)) });
    }
    return out;
  } catch {
    return [];
  }
}
