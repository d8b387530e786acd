// Edit what a compiled object's BTF says about a struct, for tests of crafted objects that no
// compiler emits (clang cannot make a struct of 4 GiB: it counts member offsets in 32-bit bits).

/** [offset, size] of an ELF64 section by name. */
function section(elf: Buffer, name: string): [number, number] {
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const entsize = elf.readUInt16LE(0x3a);
  const count = elf.readUInt16LE(0x3c);
  const strHdr = shoff + elf.readUInt16LE(0x3e) * entsize;
  const strOff = Number(elf.readBigUInt64LE(strHdr + 0x18));
  for (let i = 0; i < count; i++) {
    const h = shoff + i * entsize;
    const at = strOff + elf.readUInt32LE(h);
    if (elf.toString('latin1', at, elf.indexOf(0, at)) === name) return [Number(elf.readBigUInt64LE(h + 0x18)), Number(elf.readBigUInt64LE(h + 0x20))];
  }
  throw new Error(`no section ${name}`);
}

/** A copy of `elf` where BTF struct `name` claims `size` bytes. */
export function withStructSize(elf: Buffer, name: string, size: number): Buffer {
  const out = Buffer.from(elf);
  const [btf] = section(out, '.BTF');
  const hdrLen = out.readUInt32LE(btf + 4);
  const types = btf + hdrLen + out.readUInt32LE(btf + 8);
  const typesEnd = types + out.readUInt32LE(btf + 12);
  const strings = btf + hdrLen + out.readUInt32LE(btf + 16);
  const extra: Record<number, (vlen: number) => number> = { 1: () => 4, 3: () => 12, 4: (v) => 12 * v, 5: (v) => 12 * v, 6: (v) => 8 * v, 13: (v) => 8 * v, 14: () => 4, 15: (v) => 12 * v, 17: () => 4, 19: (v) => 12 * v };
  for (let p = types; p < typesEnd; ) {
    const nameOff = out.readUInt32LE(p);
    const info = out.readUInt32LE(p + 4);
    const kind = (info >>> 24) & 0x1f;
    const tname = out.toString('latin1', strings + nameOff, out.indexOf(0, strings + nameOff));
    if (kind === 4 && tname === name) {
      out.writeUInt32LE(size, p + 8);
      return out;
    }
    p += 12 + (extra[kind]?.(info & 0xffff) ?? 0);
  }
  throw new Error(`no struct ${name} in the BTF`);
}
