import { GadgetInstance } from '../runtime/instance.js';
import { MAP_TYPE_NAMES } from '../runtime/kernel-constants.js';
import type { GadgetSpec } from './spec.js';

/** What `ig image inspect` shows of an eBPF object: parsed only, nothing enters the kernel. */
export interface GadgetObjectDescription {
  kind: string | null;
  programs: { name: string; section: string }[];
  maps: { name: string; type: string; keySize: number; valueSize: number; maxEntries: number }[];
  datasources: { name: string; kind: string; convention: string; source: string; fields: { name: string; type: string; hidden?: boolean }[] }[];
  params: { key: string; variable: string; kind: string; default: string; description?: string }[];
  metrics: { map: string; metric: string }[];
}

export function withSpec<T>(elf: Buffer, metadata: Buffer | null, fn: (spec: GadgetSpec, inst: GadgetInstance) => T): T {
  const inst = GadgetInstance.open(elf, metadata, 'inspect');
  try {
    return fn(inst.spec, inst);
  } finally {
    void inst.close();
  }
}

export function describeGadgetObject(elf: Buffer, metadata: Buffer | null = null): GadgetObjectDescription {
  return withSpec(elf, metadata, (spec, inst) => ({
    kind: spec.kind,
    programs: spec.programs.map((p) => ({ name: p.name, section: p.section })),
    maps: spec.maps.map((m) => ({
      name: m.name, type: MAP_TYPE_NAMES[m.type] ?? String(m.type), keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries,
    })),
    datasources: spec.datasources.map((ds) => ({
      name: ds.name, kind: ds.kind, convention: ds.convention,
      source: 'map' in ds.source ? `${ds.source.type} ${ds.source.map}` : `${ds.source.type} ${ds.source.programs.join(',')}`,
      fields: ds.fields.map((f) => ({ name: f.name, type: f.typeName ?? f.kind, ...(f.hidden ? { hidden: true } : {}) })),
    })),
    params: spec.params.map((p) => ({ key: p.key, variable: p.variable, kind: p.kind, default: inst.paramDefault(p), description: p.description })),
    metrics: spec.metrics.map((m) => ({ map: m.map, metric: m.metric })),
  }));
}
