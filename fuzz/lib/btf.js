// Where the numbers of a .BTF section are, so mutations can change what a type says (a size, an
// element count, a member's type or offset) while the section stays parseable: most of those
// reach the GadgetSpec builder instead of being refused by libbpf's first sanity check.

export const KIND = { INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10, RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19 };

/** Bytes that follow a type's 12-byte header, by kind. */
function extraBytes(kind, vlen) {
  switch (kind) {
    case KIND.INT: case KIND.VAR: case KIND.DECL_TAG: return 4;
    case KIND.ARRAY: return 12;
    case KIND.STRUCT: case KIND.UNION: case KIND.DATASEC: case KIND.ENUM64: return 12 * vlen;
    case KIND.ENUM: case KIND.FUNC_PROTO: return 8 * vlen;
    default: return 0;
  }
}

/**
 * Every BTF type of the .BTF section at [start, end) of an ELF file: where its header is (`at`), its
 * kind, vlen and name. Empty when the section is not BTF.
 */
export function btfTypes(elf, [start, end]) {
  const out = [];
  if (end - start < 24 || elf.readUInt16LE(start) !== 0xeb9f) return out;
  const hdrLen = elf.readUInt32LE(start + 4);
  let p = start + hdrLen + elf.readUInt32LE(start + 8);
  const stop = Math.min(end, p + elf.readUInt32LE(start + 12));
  const strings = start + hdrLen + elf.readUInt32LE(start + 16);
  while (p + 12 <= stop) {
    const info = elf.readUInt32LE(p + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const nameAt = strings + elf.readUInt32LE(p);
    out.push({ at: p, kind, vlen, name: nameAt < end ? elf.toString('latin1', nameAt, elf.indexOf(0, nameAt)) : '' });
    p += 12 + extraBytes(kind, vlen);
  }
  return out;
}

/**
 * Offsets (in the ELF file) of the u32 fields of every BTF type: `sizeOrType` of each type, array
 * {type, nelems}, member {type, offset}, int encodings, param and var types, var places. Also the
 * number of types, so a mutation can pick a valid type id.
 */
export function btfFields(elf, range) {
  const fields = [];
  const types = btfTypes(elf, range);
  for (const { at, kind, vlen } of types) {
    const p = at + 12;
    fields.push({ at: at + 8, what: 'size/type' });
    if (kind === KIND.INT) fields.push({ at: p, what: 'int encoding' });
    if (kind === KIND.ARRAY) fields.push({ at: p, what: 'array type' }, { at: p + 8, what: 'nelems' });
    if (kind === KIND.STRUCT || kind === KIND.UNION) for (let i = 0; i < vlen; i++) fields.push({ at: p + 12 * i + 4, what: 'member type' }, { at: p + 12 * i + 8, what: 'member offset' });
    if (kind === KIND.FUNC_PROTO) for (let i = 0; i < vlen; i++) fields.push({ at: p + 8 * i + 4, what: 'param type' });
    if (kind === KIND.DATASEC) for (let i = 0; i < vlen; i++) fields.push({ at: p + 12 * i, what: 'var type' }, { at: p + 12 * i + 4, what: 'var offset' }, { at: p + 12 * i + 8, what: 'var size' });
  }
  return { fields, types: types.length };
}

/** Overwrite 1 to 3 BTF fields of a copy of `elf` with values that break layouts. */
export function mutateBtf(rng, elf, btf) {
  const b = Buffer.from(elf);
  const n = 1 + rng.int(3);
  for (let i = 0; i < n && btf.fields.length; i++) {
    const f = rng.pick(btf.fields);
    const v = f.what.includes('type')
      ? rng.chance(0.8) ? 1 + rng.int(btf.types) : rng.interesting()
      : rng.chance(0.5) ? rng.interesting() : b.readUInt32LE(f.at) * (1 + rng.int(1000));
    b.writeUInt32LE(v >>> 0, f.at);
  }
  return b;
}
