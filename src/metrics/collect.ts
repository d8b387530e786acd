/**
 * Datasources marked `metrics.collect: true` in gadget.yaml (IG's otel-metrics annotations): each
 * record is recorded into OpenTelemetry instruments — fields with `metrics.type: key` are the
 * attributes, `counter` fields are added, `gauge` fields set, `histogram` fields recorded
 * (`metrics.boundaries: 1,10,100` sets the buckets); `metrics.implicit-counter.name` on the
 * datasource counts its records. `metrics.name`, `metrics.description` and `metrics.unit`
 * name and describe a metric, as in IG.
 */
import type { Attributes, Meter } from '@opentelemetry/api';
import type { Batch } from '../datasource/batch.js';
import type { RunDataSource } from '../datasource/datasource.js';
import type { GadgetMetadata } from '../gadget/metadata.js';
import { IgError } from '../errors.js';

type Ann = Record<string, unknown>;
const str = (a: Ann | undefined, k: string) => (a?.[k] === undefined ? undefined : String(a[k]));

/** Which of a datasource's fields say what (empty when it is not collected). */
export interface CollectPlan {
  keys: { field: string; name: string }[];
  values: { field: string; name: string; type: 'counter' | 'gauge' | 'histogram'; description?: string; unit?: string; boundaries?: number[] }[];
  implicitCounter?: { name: string; description?: string };
}

export function collectPlan(meta: GadgetMetadata | null, ds: RunDataSource): CollectPlan | undefined {
  const m = meta?.datasources?.[ds.name];
  if (String(m?.annotations?.['metrics.collect']) !== 'true') return undefined;
  const plan: CollectPlan = { keys: [], values: [] };
  for (const [field, def] of Object.entries(m?.fields ?? {})) {
    const a = def?.annotations as Ann | undefined;
    const type = str(a, 'metrics.type');
    if (!type) continue;
    if (!ds.field(field)) throw new IgError('invalid-image', `gadget.yaml: metrics field "${ds.name}.${field}" is not a field of the datasource`);
    const name = str(a, 'metrics.name') ?? field;
    if (type === 'key') plan.keys.push({ field, name });
    else if (type === 'counter' || type === 'gauge' || type === 'histogram') {
      const b = str(a, 'metrics.boundaries');
      plan.values.push({ field, name, type, description: str(a, 'metrics.description'), unit: str(a, 'metrics.unit'), boundaries: b ? b.split(',').map(Number) : undefined });
    } else throw new IgError('invalid-image', `gadget.yaml: ${ds.name}.${field} has metrics.type "${type}"`, { hint: 'use key, counter, gauge or histogram' });
  }
  const implicit = m?.annotations?.['metrics.implicit-counter.name'];
  if (implicit) plan.implicitCounter = { name: String(implicit), description: m?.annotations?.['metrics.implicit-counter.description'] };
  return plan;
}

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : Number(v) || 0);
const attr = (v: unknown): string | number | boolean => (typeof v === 'bigint' ? v.toString() : typeof v === 'number' || typeof v === 'boolean' ? v : String(v ?? ''));

/** The function a subscriber calls with each batch, once the meter exists. */
export function collector(ds: RunDataSource, plan: CollectPlan, meter: Meter): (b: Batch) => void {
  const keys = plan.keys.map((k) => ({ name: k.name, read: ds.reader(k.field) }));
  const record = plan.values.map((v) => {
    const read = ds.reader(v.field);
    const opts = { description: v.description, unit: v.unit };
    if (v.type === 'counter') {
      const c = meter.createCounter(v.name, opts);
      return (b: Batch, r: number, a: Attributes) => c.add(num(read(b, r)), a);
    }
    if (v.type === 'gauge') {
      const g = meter.createGauge(v.name, opts);
      return (b: Batch, r: number, a: Attributes) => g.record(num(read(b, r)), a);
    }
    const h = meter.createHistogram(v.name, { ...opts, advice: v.boundaries ? { explicitBucketBoundaries: v.boundaries } : undefined });
    return (b: Batch, r: number, a: Attributes) => h.record(num(read(b, r)), a);
  });
  if (plan.implicitCounter) {
    const c = meter.createCounter(plan.implicitCounter.name, { description: plan.implicitCounter.description });
    record.push((_b, _r, a) => c.add(1, a));
  }
  return (b) => {
    for (let k = 0; k < b.count; k++) {
      const r = b.rows[k]!;
      const a: Attributes = {};
      for (const k of keys) a[k.name] = attr(k.read(b, r));
      for (const f of record) f(b, r, a);
    }
  };
}
