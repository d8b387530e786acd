// The ELF/BTF open path: libbpf opens a mutated gadget object (native), then the TypeScript side
// builds the GadgetSpec from its maps, programs and BTF (classification, layouts, params), sets it
// up as `ig run` does before load, and runs every generated decoder over a record. Nothing enters
// the kernel. Corpus: the eBPF layers of the images in the store.
import { dist } from '../dist.js';
import { btfFields, mutateBtf } from '../btf.js';
import { sections } from '../elf.js';
import { mutateBytes } from '../mutate.js';

export default {
  name: 'elf',
  describe: 'gadget ELF objects (libbpf open, BTF, GadgetSpec, decoders)',
  async init({ store }) {
    const { Store } = await dist('oci/store.js');
    const { getGadgetImage } = await dist('oci/image.js');
    const { isSignatureReference } = await dist('oci/signing.js');
    const s = await Store.open(store);
    const refs = (await s.listTags()).map((t) => t.reference).filter((r) => !isSignatureReference(r)).sort();
    const corpus = [];
    for (const ref of refs) {
      try {
        const img = await getGadgetImage(ref, 'never', { store });
        const secs = sections(img.ebpf);
        const btfRange = secs.get('.BTF');
        corpus.push({ ref, elf: img.ebpf, meta: img.metadata, sections: [...secs.entries()], btf: btfRange ? btfFields(img.ebpf, btfRange) : { fields: [], types: 0 } });
      } catch {
        /* not a gadget we can read: skip */
      }
    }
    if (corpus.length === 0) throw new Error(`no gadget images in ${store}: build some first (scripts/setup.sh --test)`);
    return { corpus };
  },
  /** Byte 0 picks the base object (whose gadget.yaml goes with it), the rest is the mutated ELF. */
  generate(rng, { corpus }) {
    const base = rng.int(corpus.length);
    const { elf, sections: secs, btf } = corpus[base];
    // Half the inputs change what BTF types say (sizes, counts, member types and offsets), the
    // rest are byte-level edits aimed at sections.
    if (btf.fields.length && rng.chance(0.5)) return Buffer.concat([Buffer.from([base]), mutateBtf(rng, elf, btf)]);
    const aim = (name) => secs.find(([n]) => n === name)?.[1];
    const r = rng.next();
    const range = r < 0.55 ? aim('.BTF') : r < 0.7 ? aim('.maps') : r < 0.8 ? aim('.BTF.ext') : r < 0.9 ? aim('<section headers>') : undefined;
    const [from, to] = range ?? [0, elf.length];
    return Buffer.concat([Buffer.from([base]), mutateBytes(rng, elf, { from, to, max: 6 })]);
  },
  async run(input, { corpus }) {
    const { GadgetInstance } = await dist('runtime/instance.js');
    const { describeSpec } = await dist('engine/run.js');
    const meta = corpus[input[0]]?.meta ?? null;
    const elf = input.subarray(1);
    const inst = GadgetInstance.open(elf, meta, 'fuzz');
    try {
      const spec = inst.spec;
      // the fields as the operators make them (formatters, container fields), as --help shows them
      describeSpec(spec);
      // What `ig run` does before load: params to their defaults, ring/perf maps adapted, filter flags set.
      inst.configure({ mntnsFilter: input.length & 1 ? 'deny' : 'allow', forcePerfBuffer: ((input.length >> 1) & 1) === 1 });
      for (const ds of spec.datasources) {
        if (!ds.layout) continue;
        const u8 = Buffer.alloc(ds.recordSize ?? 0);
        for (let i = 0; i < u8.length; i++) u8[i] = elf[i % elf.length];
        ds.layout.decode(new DataView(u8.buffer, u8.byteOffset, u8.length), u8, 0);
      }
    } finally {
      await inst.close();
    }
  },
};
