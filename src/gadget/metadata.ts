import YAML from 'yaml';
import { IgError } from '../errors.js';
import type { FieldAttrs, FieldDesc } from '../model/field.js';

/** gadget.yaml, the parts the runtime reads (Inspektor Gadget's format). */
export interface GadgetMetadata {
  name?: string;
  description?: string;
  homepageURL?: string;
  documentationURL?: string;
  sourceURL?: string;
  annotations?: Record<string, string>;
  datasources?: Record<string, { annotations?: Record<string, string>; fields?: Record<string, { annotations?: Record<string, unknown> }> }>;
  /** `ebpf`: params of the eBPF program's variables; `wasm`: params the wasm module reads (getParamValue) */
  params?: { ebpf?: Record<string, ParamMetadata>; custom?: Record<string, ParamMetadata>; wasm?: Record<string, ParamMetadata> };
  /** operators this gadget asks for, with their settings (IG: `operator: { process: { interval: 3s } }`) */
  operator?: Record<string, Record<string, unknown>>;
  /** per program (IG's `programs.<name>`): attach_to overrides the section's target; perf-event sampling */
  programs?: Record<string, { attach_to?: string; sampler?: { frequency?: number | string }; perf?: Record<string, string> }>;
}

interface ParamMetadata {
  key?: string;
  defaultValue?: string | number | boolean;
  description?: string;
  possibleValues?: string[];
  /** wasm params: IG's extra attributes */
  typeHint?: string;
  isMandatory?: boolean;
}

export function parseMetadata(bytes: Buffer | string | null): GadgetMetadata | null {
  if (bytes === null) return null;
  const text = typeof bytes === 'string' ? bytes : bytes.toString('utf8');
  if (text.trim() === '' || text.trim() === '{}') return null;
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new IgError('invalid-image', `gadget.yaml is not valid YAML: ${(err as Error).message.split('\n')[0]}`, {
      hint: 'fix the gadget.yaml and rebuild the image',
    });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new IgError('invalid-image', 'gadget.yaml must be a mapping (name:, description:, datasources:, params:)');
  }
  return doc as GadgetMetadata;
}

/** Column and documentation attributes for one field, from its gadget.yaml annotations. */
export function fieldAttrs(meta: GadgetMetadata | null, datasource: string, field: string): FieldAttrs {
  const a = meta?.datasources?.[datasource]?.fields?.[field]?.annotations;
  if (!a) return {};
  const num = (k: string) => (a[k] === undefined ? undefined : Number(a[k]));
  const out: FieldAttrs = {};
  const width = num('columns.width');
  if (width !== undefined && !Number.isNaN(width)) out.width = width;
  const maxw = num('columns.maxwidth') ?? num('columns.maxWidth');
  if (maxw !== undefined && !Number.isNaN(maxw)) out.maxWidth = maxw;
  const minw = num('columns.minwidth') ?? num('columns.minWidth');
  if (minw !== undefined && !Number.isNaN(minw)) out.minWidth = minw;
  const align = a['columns.alignment'];
  if (align === 'left' || align === 'right') out.alignment = align;
  const hidden = a['columns.hidden'];
  if (hidden !== undefined) out.hidden = hidden === true || hidden === 'true';
  const ellipsis = a['columns.ellipsis'];
  if (ellipsis === 'end' || ellipsis === 'start' || ellipsis === 'middle' || ellipsis === 'none') out.ellipsis = ellipsis;
  if (typeof a.description === 'string') out.description = a.description;
  if (typeof a.template === 'string') out.template = a.template;
  if (typeof a['columns.alias'] === 'string' && a['columns.alias'] !== '') out.alias = a['columns.alias'];
  const skip = a['json.skip'];
  if (skip === true || skip === 'true') out.jsonSkip = true;
  return out;
}

/** Apply gadget.yaml annotations onto decoded fields (formatted siblings inherit their raw field's entry too). */
export function annotateFields(meta: GadgetMetadata | null, datasource: string, fields: FieldDesc[]): FieldDesc[] {
  return fields.map((f) => {
    const attrs = fieldAttrs(meta, datasource, f.name);
    return Object.keys(attrs).length ? { ...f, ...attrs } : f;
  });
}

