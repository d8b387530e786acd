/**
 * What a field is, in the words every layer shares (the BTF layout compiler, the gadget spec,
 * the run engine's datasources, the outputs): a name, what its values are in JS, and how it is
 * shown. Plain data, no behaviour: this module imports nothing.
 *
 * Names are flat, with dots for nesting (`proc.comm`, `k8s.podName`): JSON output re-nests on the
 * dots, columns use the names as they are.
 */

export type GadgetKind = 'tracer' | 'topper' | 'snapshotter';

/** What a field's values are in JS. */
export type ValueKind = 'number' | 'bigint' | 'string' | 'bool' | 'array';

export interface FieldAttrs {
  /** column width in characters (gadget.yaml `columns.width`) */
  width?: number;
  minWidth?: number;
  maxWidth?: number;
  alignment?: 'left' | 'right';
  /** hidden from the default column set (still selectable with --fields) */
  hidden?: boolean;
  /** where to cut a value too long for its column */
  ellipsis?: 'end' | 'start' | 'middle' | 'none';
  description?: string;
  /** gadget.yaml `template` (e.g. "comm", "pid", "timestamp") giving default width/alignment */
  template?: string;
  /** column header instead of the name (IG's `columns.alias`; gadget_process members get their member name) */
  alias?: string;
  /** gadget.yaml `json.skip`: left out of JSON's default field set (IG: fields for internal use, e.g. a packet's bytes) */
  jsonSkip?: boolean;
}

export interface FieldDesc extends FieldAttrs {
  /** full dotted name, the key in an event object */
  name: string;
  kind: ValueKind;
  /** the gadget_* type or BTF type name this field came from (e.g. "gadget_errno", "__u32") */
  typeName?: string;
  /** for fields formatted from a raw one (`error` from `error_raw`), the raw field's name */
  rawOf?: string;
  /** tags such as "kernel", "enrichment", "key", "value" */
  tags?: string[];
}

/** One event as a plain object keyed by dotted field name (the library API, yaml, sorting tests). */
export type Event = Record<string, unknown>;
