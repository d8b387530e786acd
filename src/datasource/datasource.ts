/**
 * A datasource of one run: a stream or table a gadget produces (trace_open has one, `open`),
 * as Inspektor Gadget's pkg/datasource models it. Its fields start as the record's BTF layout
 * (from the read-only GadgetSpec); operators add their own (columns, derived fields), subscribe
 * with a priority, and batches are emitted through the subscribers in priority order.
 *
 * Every reader (filters, sorting, the JSON and columns writers, event objects for the library)
 * gets its values through code generated from the fields' sources, so a value is read from the
 * bytes only where someone reads it.
 */
import { IgError } from '../errors.js';
import { HELPERS, type CompiledLayout } from '../btf/decoder.js';
import type { Event, FieldDesc, GadgetKind } from '../model/field.js';
import type { Batch } from './batch.js';
import type { FieldSource, RunField } from './field.js';

/**
 * Receives each batch. A subscriber that adds records (a wasm guest appending to a data array)
 * returns the batch that replaces this one for the subscribers after it.
 */
export type Subscriber = (b: Batch) => void | Batch;
/** A function generated over a datasource's fields, called with one record. */
export type RecordFn<T> = (b: Batch, r: number) => T;

interface Subscription { priority: number; name: string; fn: Subscriber }

export interface AddFieldOptions {
  /** place the field right after this one (default: at the end) */
  after?: string;
  /** place the field first */
  first?: boolean;
}

export class RunDataSource {
  readonly name: string;
  readonly kind: GadgetKind;
  /** the record layout (absent for datasources whose fields all live beside the bytes) */
  readonly layout?: CompiledLayout;
  /** bytes of one record (0 when there are no record bytes) */
  readonly recordSize: number;
  private readonly list: RunField[] = [];
  private readonly byName = new Map<string, RunField>();
  /** functions derived fields call (`D[i]`) */
  private readonly fns: ((v: unknown) => unknown)[] = [];
  private slots = 0;
  private subs: Subscription[] = [];
  private readonly invalidated = new Set<() => void>();
  /** bumps whenever the field list or a field's attributes change (lazy compilers check it) */
  version = 0;
  /** annotations (gadget.yaml datasource annotations, and ones operators add) */
  readonly annotations: Record<string, string> = {};
  /**
   * Whether outputs show this datasource (IG's IsReferenced): an operator that consumes a
   * datasource and shows its own instead (a wasm guest's dataSourceUnreference) clears it
   * before the outputs are instantiated.
   */
  referenced = true;

  constructor(o: { name: string; kind: GadgetKind; layout?: CompiledLayout; recordSize?: number; fields?: readonly FieldDesc[] }) {
    this.name = o.name;
    this.kind = o.kind;
    this.layout = o.layout;
    this.recordSize = o.recordSize ?? 0;
    if (o.layout) {
      const descs = new Map((o.fields ?? o.layout.fields).map((f) => [f.name, f]));
      for (const code of o.layout.codes) {
        const desc = descs.get(code.name) ?? o.layout.fields.find((f) => f.name === code.name)!;
        this.insert({ ...desc, source: { type: 'static', code } }, {});
      }
    }
  }

  /** The fields in output order. */
  get fields(): readonly RunField[] {
    return this.list;
  }

  field(name: string): RunField | undefined {
    return this.byName.get(name);
  }

  /** The field, or a usage error naming the fields there are. */
  require(name: string, what = 'field'): RunField {
    const f = this.byName.get(name);
    if (!f) {
      throw new IgError('usage', `${what}: unknown field "${name}" in datasource ${this.name}`, {
        hint: `available fields: ${this.list.map((x) => x.name).join(', ')}`,
      });
    }
    return f;
  }

  private insert(f: RunField, opts: AddFieldOptions): RunField {
    if (this.byName.has(f.name)) {
      throw new IgError('invalid-object', `datasource ${this.name} already has a field "${f.name}"`);
    }
    const i = opts.after === undefined ? -1 : this.list.findIndex((x) => x.name === opts.after);
    if (opts.first) this.list.unshift(f);
    else if (i < 0) this.list.push(f);
    else this.list.splice(i + 1, 0, f);
    this.byName.set(f.name, f);
    this.version++;
    return f;
  }

  /** A field whose values operators set per record (`set(b, r, v)`), stored beside the bytes. */
  addField(desc: FieldDesc, opts: AddFieldOptions = {}): RunField {
    return this.insert({ ...desc, source: { type: 'column', slot: this.slots++ } }, opts);
  }

  /** A place for a value per record that no field shows, only derived fields read (an event's container). */
  addSlot(): { slot: number } {
    return { slot: this.slots++ };
  }

  /**
   * A field computed from another's value (or a slot's) when read. `fn` must depend on that value
   * only: writers keep its result per value (until invalidate()).
   */
  addDerived(desc: FieldDesc, from: string | { slot: number }, fn: (v: unknown) => unknown, opts: AddFieldOptions & { special?: 'timestamp' } = {}): RunField {
    if (typeof from === 'string') this.require(from, 'derived field');
    const source: FieldSource = { type: 'derived', from, fn: this.fns.push(fn) - 1, special: opts.special };
    return this.insert({ ...desc, source }, opts);
  }

  /** Change how a field shows (hidden, width, …). */
  updateField(name: string, attrs: Partial<FieldDesc>): void {
    const f = this.require(name);
    const next = { ...f, ...attrs, name: f.name, source: f.source } as RunField;
    this.list[this.list.indexOf(f)] = next;
    this.byName.set(name, next);
    this.version++;
  }

  // ---- the operator chain ----

  /** Receive every batch, in priority order (lower first). */
  subscribe(fn: Subscriber, priority: number, name = 'operator'): () => void {
    const s: Subscription = { priority, name, fn };
    this.subs = [...this.subs, s].sort((a, b) => a.priority - b.priority);
    return () => {
      this.subs = this.subs.filter((x) => x !== s);
    };
  }

  /** Whether anyone takes this datasource's batches (IG: a datasource nobody references can be skipped). */
  get subscribed(): boolean {
    return this.subs.length > 0;
  }

  /**
   * Hand a batch to the subscribers, from those after priority `after` on (an operator that
   * held records re-emits them past itself). A batch left with nothing to say stops early.
   */
  emit(b: Batch, after = -Infinity): void {
    for (const s of this.subs) {
      if (s.priority <= after) continue;
      const next = s.fn(b);
      if (next) b = next;
      if (b.count === 0 && !b.snapshot && !b.lost && !b.warnings) return;
    }
  }

  // ---- reading and writing values ----

  /** JS expression reading a field's value; in scope: `dv, u8, o, X, r` and the tables `H, C, D`. */
  expr(f: RunField | string): string {
    const field = typeof f === 'string' ? this.require(f) : f;
    const s = field.source;
    switch (s.type) {
      case 'static':
        return s.code.expr;
      case 'column':
        return `X[${s.slot}]?.[r]`;
      case 'derived':
        return `D[${s.fn}](${this.sourceExpr(field)})`;
    }
  }

  /** JS expression reading the value a derived field is computed from. */
  sourceExpr(f: RunField): string {
    const s = f.source;
    if (s.type !== 'derived') throw new IgError('internal', `field ${f.name} is not derived`);
    return typeof s.from === 'string' ? this.expr(s.from) : `X[${s.from.slot}]?.[r]`;
  }

  /** The function a derived field applies to its source value. */
  derivedFn(f: RunField): (v: unknown) => unknown {
    const s = f.source;
    if (s.type !== 'derived') throw new IgError('internal', `field ${f.name} is not derived`);
    return this.fns[s.fn]!;
  }

  /**
   * Compile `body`, the body of `function(…args)` that may use `H` (decoder helpers), `C` (the
   * layout's constants), `D` (derived functions) and the extra tables named in `tables`.
   */
  compile<T>(args: string, body: string, tables: Record<string, unknown> = {}): T {
    const names = ['H', 'C', 'D', ...Object.keys(tables)];
    const factory = new Function(...names, `return function generated(${args}) {\n${body}\n};`);
    return factory(HELPERS, this.layout?.consts ?? [], this.fns, ...Object.values(tables)) as T;
  }

  /** Prologue binding `dv, u8, o, X` for record `r` of batch `b`. */
  static readonly RECORD = 'const dv = b.dv, u8 = b.data, o = b.offsets[r], X = b.cols;';

  /** A function reading one field of record `r`. */
  reader(name: string): RecordFn<unknown> {
    return this.compile('b, r', `${RunDataSource.RECORD}\nreturn ${this.expr(name)};`);
  }

  /** A function building record `r` as an event object (all fields, or the named ones, in order). */
  decoder(names?: readonly string[]): RecordFn<Event> {
    const fields = names ? names.map((n) => this.require(n)) : this.list;
    const body = fields.map((f) => `${JSON.stringify(f.name)}: ${this.expr(f)}`).join(',\n  ');
    return this.compile('b, r', `${RunDataSource.RECORD}\nreturn {\n  ${body}\n};`);
  }

  /** The live records of a batch as event objects. */
  events(b: Batch, names?: readonly string[]): Event[] {
    const decode = this.decoder(names);
    const out = new Array<Event>(b.count);
    for (let k = 0; k < b.count; k++) out[k] = decode(b, b.rows[k]!);
    return out;
  }

  /** Where a static field's bytes are in each record (undefined for bitfields and fields beside the bytes). */
  byteRange(name: string): { offset: number; size: number } | undefined {
    const s = this.require(name).source;
    return s.type === 'static' ? s.code.at : undefined;
  }

  /**
   * Set a field's value for record `r`: an added field's value beside the bytes, or a static
   * field's bytes in the record (a number, bigint or bool into an integer, a string into a char
   * array, cut to fit and zero-filled, as IG's accessors do). Derived fields are computed.
   */
  setter(name: string): (b: Batch, r: number, v: unknown) => void {
    const f = this.require(name);
    if (f.source.type === 'static' && f.source.code.at) return staticSetter(f.source.code.at, f.kind);
    if (f.source.type !== 'column') {
      throw new IgError('usage', `field "${name}" of datasource ${this.name} is ${f.source.type === 'static' ? 'a bitfield' : 'computed'}; it cannot be set`);
    }
    const slot = f.source.slot;
    return (b, r, v) => {
      b.column(slot)[r] = v;
    };
  }

  // ---- caches of values derived from other values ----

  /** Writers keep encoded text per value of a derived field's source; they register here to be told when it goes stale. */
  onInvalidate(cb: () => void): () => void {
    this.invalidated.add(cb);
    return () => this.invalidated.delete(cb);
  }

  /** An operator's derived values changed meaning (a container's labels changed): drop what was kept. */
  invalidate(): void {
    for (const cb of this.invalidated) cb();
  }
}

function staticSetter(at: { offset: number; size: number }, kind: FieldDesc['kind']): (b: Batch, r: number, v: unknown) => void {
  const { offset, size } = at;
  if (kind === 'string') {
    return (b, r, v) => {
      const o = b.offsets[r]! + offset;
      const n = b.data.write(String(v ?? ''), o, size, 'utf8');
      b.data.fill(0, o + n, o + size);
    };
  }
  return (b, r, v) => {
    const o = b.offsets[r]! + offset;
    let x = typeof v === 'bigint' ? v : BigInt(typeof v === 'boolean' ? Number(v) : Math.trunc(Number(v ?? 0)));
    for (let i = 0; i < size; i++, x >>= 8n) b.data[o + i] = Number(x & 0xffn);
  };
}
