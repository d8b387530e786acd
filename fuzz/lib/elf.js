// Just enough ELF64 to find a section's bytes, so mutations can aim at .BTF and the map sections.

/** [start, end) of each named section of a little-endian ELF64 file; empty when it is not one. */
export function sections(buf) {
  const out = new Map();
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2) return out;
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  const hdr = (i) => shoff + i * shentsize;
  if (shentsize < 64 || hdr(shnum) > buf.length || shstrndx >= shnum) return out;
  const strOff = Number(buf.readBigUInt64LE(hdr(shstrndx) + 0x18));
  for (let i = 0; i < shnum; i++) {
    const h = hdr(i);
    const nameAt = strOff + buf.readUInt32LE(h);
    const name = buf.toString('latin1', nameAt, buf.indexOf(0, nameAt));
    const off = Number(buf.readBigUInt64LE(h + 0x18));
    const size = Number(buf.readBigUInt64LE(h + 0x20));
    if (off + size <= buf.length) out.set(name, [off, off + size]);
  }
  out.set('<section headers>', [shoff, hdr(shnum)]);
  return out;
}
