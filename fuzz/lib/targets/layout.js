// The layout compiler: random BTF type tables (structs, unions, arrays, bitfields, typedef chains,
// enums, cycles, absurd sizes and counts) are flattened, compiled into decoder source and run over
// a record of the type's size. Inputs are the type tables as JSON, so a reproducer reads as one.
import { dist } from '../dist.js';

const INT_NAMES = [['char', 1], ['unsigned char', 1], ['short', 2], ['unsigned int', 4], ['int', 4], ['long long', 8], ['unsigned long', 8], ['__int128', 16], ['_Bool', 1], ['odd', 3]];
const TYPEDEFS = ['__u8', '__u32', '__u64', 'gadget_comm', 'gadget_errno', 'gadget_timestamp', 'gadget_mntns_id', 'gadget_l4endpoint_t', 'gadget_l3endpoint_t', 'gadget_signal', 'pid_t'];
const MEMBER_NAMES = ['pid', 'comm', 'addr', 'port', 'version', 'proto', 'proto_raw', '', '__pad', 'a', 'b.c', 'x'];

/** A random BTF table of up to 24 types; type 1 is the record struct. */
function randomTypes(rng) {
  const n = 2 + rng.int(23);
  const ref = () => (rng.chance(0.05) ? rng.int(n + 3) : 1 + rng.int(n)); // sometimes a missing id, 0 = void
  const size = () => (rng.chance(0.15) ? rng.interesting() : 1 + rng.int(512));
  const types = [];
  for (let id = 1; id <= n; id++) {
    const k = id === 1 ? 'struct' : rng.pick(['int', 'int', 'struct', 'union', 'array', 'array', 'typedef', 'const', 'enum', 'enum64', 'ptr', 'float', 'fwd', 'volatile']);
    const t = { id, kind: k, name: '' };
    if (k === 'int') {
      const [name, sz] = rng.pick(INT_NAMES);
      Object.assign(t, { name, size: sz, intEncoding: { signed: rng.chance(0.5), char: name.includes('char'), bool: name === '_Bool', bitsOffset: 0, bits: sz * 8 } });
    } else if (k === 'struct' || k === 'union') {
      const members = [];
      const count = rng.chance(0.05) ? 200 + rng.int(3000) : rng.int(8);
      let bit = 0;
      for (let m = 0; m < count; m++) {
        const bitfield = rng.chance(0.15) ? 1 + rng.int(64) : 0;
        members.push({ name: rng.pick(MEMBER_NAMES) + (m || ''), type: ref(), bitsOffset: rng.chance(0.1) ? rng.interesting() : bit, bitfieldSize: bitfield });
        bit += bitfield || 8 * (1 + rng.int(16));
      }
      Object.assign(t, { name: rng.pick(['event', 'key', 'gadget_l4endpoint_t', '']), size: rng.chance(0.2) ? size() : Math.ceil(bit / 8), members });
    } else if (k === 'array') {
      Object.assign(t, { array: { type: rng.chance(0.1) ? id : ref(), indexType: 1, nelems: rng.chance(0.3) ? rng.interesting() : rng.int(64) } });
    } else if (k === 'typedef' || k === 'const' || k === 'volatile') {
      Object.assign(t, { name: k === 'typedef' ? rng.pick(TYPEDEFS) : '', type: rng.chance(0.1) ? id : ref() });
    } else if (k === 'enum' || k === 'enum64') {
      const values = Array.from({ length: rng.int(6) }, (_, i) => ({ name: `V${i}`, value: k === 'enum64' && rng.chance(0.3) ? BigInt(rng.interesting()) * 4294967296n : rng.interesting() }));
      Object.assign(t, { name: rng.pick(['color', 'flags_set', '']), size: k === 'enum64' ? 8 : rng.pick([1, 2, 4, 8]), signed: rng.chance(0.3), values });
    } else if (k === 'ptr') {
      t.type = ref();
    } else if (k === 'float') {
      Object.assign(t, { name: 'double', size: rng.pick([4, 8, 16]) });
    }
    types.push(t);
  }
  return types;
}

const toJson = (v) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? { bigint: x.toString() } : x));
const fromJson = (s) => JSON.parse(s, (_k, x) => (x && typeof x === 'object' && typeof x.bigint === 'string' ? BigInt(x.bigint) : x));

export default {
  name: 'layout',
  describe: 'BTF record layouts (flatten, compileLayout, generated decoders)',
  async init() {
    return {};
  },
  generate(rng) {
    return Buffer.from(toJson({ types: randomTypes(rng), prefix: rng.pick(['', 'key', 'value']), fill: rng.int(256) }));
  },
  async run(input) {
    const { BtfSpec } = await dist('btf/spec.js');
    const { flatten } = await dist('btf/layout.js');
    const { compileLayout } = await dist('btf/decoder.js');
    const { types, prefix, fill } = fromJson(input.toString());
    const spec = new BtfSpec(types);
    const leaves = flatten(spec, 1, prefix);
    const layout = compileLayout(leaves);
    const u8 = Buffer.alloc(spec.sizeOf(1), fill);
    layout.decode(new DataView(u8.buffer, u8.byteOffset, u8.length), u8, 0);
  },
};
