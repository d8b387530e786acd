/**
 * What an eBPF object is, as the engine would run it, without loading anything: `ig image
 * inspect`'s description, and `ig image build --update-metadata / --validate-metadata`.
 */
import YAML from 'yaml';
import { GadgetInstance } from '../runtime/instance.js';
import { MAP_TYPE_NAMES } from '../model/kernel.js';
import { parseMetadata } from '../gadget/metadata.js';
import type { GadgetSpec } from '../gadget/spec.js';
import { describeSpec } from './run.js';

export interface GadgetObjectDescription {
  kind: string | null;
  programs: { name: string; section: string }[];
  maps: { name: string; type: string; keySize: number; valueSize: number; maxEntries: number }[];
  datasources: { name: string; kind: string; convention: string; source: string; fields: { name: string; type: string; hidden?: boolean; description?: string }[] }[];
  params: { key: string; variable: string; kind: string; default: string; description?: string }[];
  metrics: { map: string; metric: string }[];
  /** global variables of the data sections (params' defaults live there) */
  variables: { name: string; section: string; offset: number; size: number }[];
}

function withSpec<T>(elf: Buffer, metadata: Buffer | null, fn: (spec: GadgetSpec) => T): T {
  const inst = GadgetInstance.open(elf, metadata, 'inspect');
  try {
    return fn(inst.spec);
  } finally {
    void inst.close();
  }
}

export function describeGadgetObject(elf: Buffer, metadata: Buffer | null = null): GadgetObjectDescription {
  return withSpec(elf, metadata, (spec) => {
    const fields = new Map(describeSpec(spec).datasources.map((d) => [d.name, d.fields]));
    return {
      kind: spec.kind,
      programs: spec.programs.map((p) => ({ name: p.name, section: p.section })),
      maps: spec.maps.map((m) => ({
        name: m.name, type: MAP_TYPE_NAMES[m.type] ?? String(m.type), keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries,
      })),
      datasources: spec.datasources.map((ds) => ({
        name: ds.name, kind: ds.kind, convention: ds.convention,
        source: 'map' in ds.source ? `${ds.source.type} ${ds.source.map}` : `${ds.source.type} ${ds.source.programs.join(',')}`,
        fields: (fields.get(ds.name) ?? []).map((f) => ({ name: f.name, type: f.typeName ?? f.kind, ...(f.hidden ? { hidden: true } : {}), ...(f.description ? { description: f.description } : {}) })),
      })),
      params: spec.params.map((p) => ({ key: p.key, variable: p.variable, kind: p.kind, default: p.default, description: p.description })),
      metrics: spec.metrics.map((m) => ({ map: m.map, metric: m.metric })),
      variables: spec.btf.variableNames().sort().map((name) => {
        const v = spec.btf.findVariable(name)!;
        return { name, section: v.section, offset: v.offset, size: v.size };
      }),
    };
  });
}

/**
 * `ig image build --update-metadata`: add to gadget.yaml what the object has and the file
 * lacks (datasources, their fields, params), keeping every existing key and comment. Returns
 * the new text.
 */
export async function updateMetadata(elf: Buffer, yamlText: string): Promise<string> {
  const doc = yamlText.trim() === '' ? new YAML.Document({}) : YAML.parseDocument(yamlText);
  withSpec(elf, null, (spec) => {
    if (!doc.has('name')) doc.set('name', 'gadget');
    if (!doc.has('description')) doc.set('description', 'TODO: describe what this gadget shows');
    for (const ds of spec.datasources) {
      for (const f of ds.fields) {
        const path = ['datasources', ds.name, 'fields', f.name, 'annotations'];
        if (!doc.hasIn(path)) doc.setIn(path, { description: `TODO: describe ${f.name}` });
      }
    }
    for (const p of spec.params) {
      const path = ['params', 'ebpf', p.variable];
      if (doc.hasIn(path)) continue;
      doc.setIn(path, { key: p.key, defaultValue: p.default, description: p.description ?? `TODO: describe ${p.key}` });
    }
  });
  return doc.toString();
}

/** `ig image build --validate-metadata`: what gadget.yaml names that the object does not have. */
export async function validateMetadata(elf: Buffer, yamlText: string): Promise<string[]> {
  const meta = parseMetadata(yamlText);
  const problems: string[] = [];
  if (!meta) return ['gadget.yaml is empty'];
  if (!meta.name) problems.push('gadget.yaml has no name');
  withSpec(elf, null, (spec) => {
    const described = new Map(describeSpec(spec).datasources.map((d) => [d.name, d.fields]));
    for (const [dsName, ds] of Object.entries(meta.datasources ?? {})) {
      const real = spec.datasources.find((d) => d.name === dsName);
      if (!real) {
        problems.push(`datasource "${dsName}" is not in the eBPF object (it has: ${spec.datasources.map((d) => d.name).join(', ') || 'none'})`);
        continue;
      }
      if (real.source.type === 'iter-text') continue; // fields of text records are only known at run time
      const fields = described.get(dsName) ?? [];
      for (const field of Object.keys(ds?.fields ?? {})) {
        if (!fields.some((f) => f.name === field)) problems.push(`field "${dsName}.${field}" is not in the eBPF object`);
      }
    }
    for (const variable of Object.keys(meta.params?.ebpf ?? {})) {
      if (!spec.params.some((p) => p.variable === variable)) {
        problems.push(`param "${variable}" has no GADGET_PARAM(${variable}) in the eBPF object`);
      }
    }
  });
  return problems;
}
