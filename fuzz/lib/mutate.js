// Mutations: byte-level for binary formats (ELF, tar, text) and structure-aware for JSON, so most
// inputs get past the first syntax check and into the code behind it.

/** 1 to `max` byte-level edits of a copy of `buf`, optionally only inside [from, to). */
export function mutateBytes(rng, buf, { max = 8, from = 0, to = buf.length } = {}) {
  let b = Buffer.from(buf);
  const edits = 1 + rng.int(max);
  for (let e = 0; e < edits; e++) {
    const span = Math.max(1, Math.min(to, b.length) - from);
    const at = from + rng.int(span);
    switch (rng.int(8)) {
      case 0: // flip a bit
        if (at < b.length) b[at] ^= 1 << rng.int(8);
        break;
      case 1: // a random byte
        if (at < b.length) b[at] = rng.int(256);
        break;
      case 2: // an interesting 32-bit value, little-endian
        if (at + 4 <= b.length) b.writeUInt32LE(rng.interesting() >>> 0, at);
        break;
      case 3: // an interesting 16-bit value
        if (at + 2 <= b.length) b.writeUInt16LE(rng.interesting() & 0xffff, at);
        break;
      case 4: // delete a run
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(64)))]);
        break;
      case 5: // insert random bytes
        b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + rng.int(32) }, () => rng.int(256))), b.subarray(at)]);
        break;
      case 6: { // duplicate a run somewhere else
        const len = 1 + rng.int(128);
        const src = rng.int(Math.max(1, b.length - len));
        b = Buffer.concat([b.subarray(0, at), b.subarray(src, src + len), b.subarray(at)]);
        break;
      }
      default: // truncate
        if (rng.chance(0.3)) b = b.subarray(0, at);
    }
  }
  return b;
}

const NASTY = [null, 0, -1, 1e300, 3221225472, 2 ** 53, 'x', '', [], {}, true, 'sha256:' + '0'.repeat(64), '../../etc/passwd', 'a'.repeat(300)];

/** Replace, drop or duplicate 1 to 4 nodes of a parsed JSON value (a copy). */
export function mutateJson(rng, value) {
  const root = structuredClone(value);
  const edits = 1 + rng.int(4);
  let out = root;
  for (let e = 0; e < edits; e++) {
    const nodes = [];
    const visit = (v, parent, key) => {
      nodes.push({ v, parent, key });
      if (v && typeof v === 'object') for (const k of Object.keys(v)) visit(v[k], v, Array.isArray(v) ? Number(k) : k);
    };
    visit(out, null, null);
    const { v, parent, key } = rng.pick(nodes);
    const nasty = structuredClone(rng.pick(NASTY));
    if (!parent) {
      out = rng.chance(0.5) ? nasty : out;
      continue;
    }
    switch (rng.int(4)) {
      case 0:
        parent[key] = nasty;
        break;
      case 1:
        if (Array.isArray(parent)) parent.splice(key, 1);
        else delete parent[key];
        break;
      case 2:
        if (Array.isArray(parent)) parent.push(structuredClone(v));
        else parent[`${key}_`] = structuredClone(v);
        break;
      default:
        if (typeof v === 'number') parent[key] = rng.interesting();
        else if (typeof v === 'string') parent[key] = v.slice(0, rng.int(v.length + 1)) + (rng.chance(0.5) ? '\u0000' : '');
        else parent[key] = nasty;
    }
  }
  return out;
}
