/**
 * The data model every stage after decoding shares.
 *
 * A datasource is one stream or table a gadget produces (trace_open has one,
 * `open`). Its fields are flat, with dotted names for nested members
 * (`proc.comm`, `k8s.podName`). An event is a plain object keyed by those
 * names. JSON output re-nests on the dots, columns output uses the names as is.
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

export interface DataSourceDesc {
  name: string;
  kind: GadgetKind;
  fields: FieldDesc[];
}

export type Event = Record<string, unknown>;

/** A batch of events from one source, the unit that flows through operators. */
export interface EventBatch {
  datasource: string;
  events: Event[];
  /** events the kernel (or a full buffer) lost since the previous batch */
  lost?: number;
  /** snapshotter/topper: this batch is one whole table (replace the screen), not a stream chunk */
  snapshot?: boolean;
  /** problems worth telling the user without stopping (e.g. skipped malformed iterator records) */
  warnings?: string[];
}
