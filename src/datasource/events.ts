/**
 * Datasources whose records are event objects (a remote node's events, test fixtures): every
 * field lives beside the (absent) bytes, so the same sinks and operators read them.
 */
import type { Event, FieldDesc, GadgetKind } from '../model/field.js';
import { Batch } from './batch.js';
import { RunDataSource } from './datasource.js';

export function datasourceOfFields(name: string, kind: GadgetKind, fields: readonly FieldDesc[]): RunDataSource {
  const ds = new RunDataSource({ name, kind });
  for (const f of fields) ds.addField(f);
  return ds;
}

/** A batch holding these events (flat objects keyed by field name). */
export function batchOfEvents(ds: RunDataSource, events: readonly Event[], o: { snapshot?: boolean; lost?: number } = {}): Batch {
  const b = Batch.ofRows(events.length);
  for (const f of ds.fields) {
    if (f.source.type !== 'column') continue;
    const col = b.column(f.source.slot);
    for (let i = 0; i < events.length; i++) col[i] = events[i]![f.name];
  }
  b.snapshot = o.snapshot ?? false;
  b.lost = o.lost ?? 0;
  return b;
}

/** A nested JSON object (as the JSON writer re-nests dotted names) back into a flat event. */
export function flattenEvent(obj: Record<string, unknown>, names: readonly string[]): Event {
  const e: Event = {};
  for (const name of names) {
    let v: unknown = obj;
    for (const part of name.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
    e[name] = v;
  }
  return e;
}
