/**
 * A gadget's metric maps as an OpenTelemetry MetricProducer: `counter_*`, `gauge_*` and `hist_*`
 * maps (bumblebee's convention) are aggregated in the kernel already, so each collection reads
 * them and hands the SDK finished data points — cumulative monotonic sums, gauges, cumulative
 * histograms — which its Prometheus and OTLP exporters write out. The key struct's fields are
 * attributes (a formatted `x_raw` field is given by name: `syscall="openat"`, not its number);
 * the value (u64, summed across CPUs for per-CPU maps) is the point. A histogram key carries its
 * bucket in `le` (inclusive upper bound) or `slot` (log2: slot i holds [2^i, 2^(i+1)), so its
 * bound is 2^(i+1)-1); the maps keep no sum, so `sum` is estimated from bucket midpoints.
 */
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type CollectionResult, type MetricData, type MetricProducer } from '@opentelemetry/sdk-metrics';
import { emptyResource } from '@opentelemetry/resources';
import type { GadgetSpec, MetricMapSpec } from '../gadget/spec.js';
import { flatten } from '../btf/layout.js';
import { compileLayout, enumNamer, type RecordDecoder } from '../btf/decoder.js';
import { formatters } from '../format/index.js';
import { native } from '../runtime/native.js';
import { PERCPU_MAPS } from '../model/kernel.js';
import { packageVersion } from '../paths.js';

/** Key fields that place a histogram observation, rather than label it. */
const BUCKET_FIELDS = ['le', 'bucket', 'slot'];

type Labels = Record<string, unknown>;
interface Reader { spec: MetricMapSpec; fd: number; keySize: number; valueSize: number; perCpu: boolean; decodeKey: (dv: DataView, u8: Buffer, o: number) => Labels }

/** A metric name as Prometheus and OTel allow it (other characters become `_`). */
export function metricName(prefix: string, n: string): string {
  const s = `${prefix ? `${prefix}_` : ''}${n}`.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[a-zA-Z_:]/.test(s) ? s : `_${s}`;
}

/** Decode a key and name its formatted fields (`syscall_raw: 257` → `syscall: "openat"`). */
function keyDecoder(spec: GadgetSpec, m: MetricMapSpec): Reader['decodeKey'] {
  if (!m.keyTypeId) return () => ({});
  const scalar = !['struct', 'union'].includes(spec.btf.resolve(m.keyTypeId).type?.kind ?? '');
  const layout = compileLayout(flatten(spec.btf, m.keyTypeId, scalar ? 'key' : ''));
  const decode: RecordDecoder = layout.decode;
  const named = layout.codes.filter((c) => c.format).map((c) => {
    const f = c.format!;
    const fn = f.kind === 'enum' ? enumNamer(f.values, f.isSet) : (formatters as Record<string, (v: unknown) => string>)[f.name];
    return { raw: c.name, name: c.name.replace(/_raw$/, ''), fn: fn as (v: never) => string };
  });
  return (dv, u8, o) => {
    const labels: Labels = decode(dv, u8, o);
    for (const n of named) {
      if (!(n.raw in labels)) continue;
      labels[n.name] = n.fn(labels[n.raw] as never);
      if (n.name !== n.raw) delete labels[n.raw];
    }
    return labels;
  };
}

function attributes(l: Labels): Attributes {
  const a: Attributes = {};
  for (const [k, v] of Object.entries(l)) a[k] = typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : typeof v === 'number' || typeof v === 'boolean' ? v : String(v);
  return a;
}

function readUint(b: Buffer, off: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i] ?? 0);
  return v;
}

function readRows(r: Reader): { labels: Labels; value: number }[] {
  const n = native();
  const d = n.mapDump(r.fd, r.keySize, r.valueSize, { perCpu: r.perCpu });
  const ncpu = r.perCpu ? n.numPossibleCpus() : 1;
  const stride = r.perCpu ? Math.ceil(r.valueSize / 8) * 8 : r.valueSize;
  const kv = new DataView(d.keys.buffer, d.keys.byteOffset, d.keys.byteLength);
  const rows: { labels: Labels; value: number }[] = [];
  for (let i = 0; i < d.count; i++) {
    let value = 0n;
    for (let c = 0; c < ncpu; c++) value += readUint(d.values, (i * ncpu + c) * stride, Math.min(r.valueSize, 8));
    rows.push({ labels: r.decodeKey(kv, d.keys, i * r.keySize), value: Number(value) });
  }
  return rows;
}

/** Rows of a histogram map (one per bucket) → one point per label set: bounds and per-bucket counts. */
export function histogramPoints(rows: { labels: Labels; value: number }[]): { labels: Labels; boundaries: number[]; counts: number[]; sum: number; count: number }[] {
  const groups = new Map<string, { labels: Labels; buckets: Map<number, number> }>();
  for (const { labels, value } of rows) {
    const bucketKey = BUCKET_FIELDS.find((k) => k in labels);
    const rest: Labels = { ...labels };
    let le = Infinity;
    if (bucketKey) {
      const raw = Number(labels[bucketKey]);
      le = bucketKey === 'slot' ? 2 ** (raw + 1) - 1 : raw;
      delete rest[bucketKey];
    }
    const id = JSON.stringify(rest, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { labels: rest, buckets: new Map() }));
    g.buckets.set(le, (g.buckets.get(le) ?? 0) + value);
  }
  return [...groups.values()].map((g) => {
    const boundaries = [...g.buckets.keys()].filter(Number.isFinite).sort((a, b) => a - b);
    const counts = [...boundaries.map((le) => g.buckets.get(le)!), g.buckets.get(Infinity) ?? 0];
    let sum = 0;
    boundaries.forEach((le, i) => (sum += counts[i]! * ((i === 0 ? 0 : boundaries[i - 1]!) + le) / 2));
    return { labels: g.labels, boundaries, counts, sum, count: counts.reduce((a, b) => a + b, 0) };
  });
}

const hr = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

/** The producer: each collection reads every metric map once. */
export function mapMetricsProducer(spec: GadgetSpec, mapFd: (name: string) => number, prefix = 'ig'): MetricProducer {
  const readers: Reader[] = spec.metrics.map((m) => {
    const info = spec.maps.find((x) => x.name === m.map)!;
    return { spec: m, fd: mapFd(m.map), keySize: info.keySize, valueSize: info.valueSize, perCpu: PERCPU_MAPS.has(info.type), decodeKey: keyDecoder(spec, m) };
  });
  const start = hr(Date.now());
  return {
    async collect(): Promise<CollectionResult> {
      const now = hr(Date.now());
      const metrics: MetricData[] = readers.map((r) => {
        const rows = readRows(r);
        const descriptor = { name: metricName(prefix, r.spec.name), description: `from map ${r.spec.map}`, unit: '', valueType: ValueType.INT };
        const base = { startTime: start, endTime: now };
        if (r.spec.metric === 'histogram') {
          return {
            descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.HISTOGRAM,
            dataPoints: histogramPoints(rows).map((p) => ({ ...base, attributes: attributes(p.labels), value: { buckets: { boundaries: p.boundaries, counts: p.counts }, sum: p.sum, count: p.count } })),
          };
        }
        const dataPoints = rows.map((x) => ({ ...base, attributes: attributes(x.labels), value: x.value }));
        return r.spec.metric === 'counter'
          ? { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints }
          : { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.GAUGE, dataPoints };
      });
      return { resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope: { name: 'ig.gadget-maps', version: packageVersion() }, metrics }] }, errors: [] };
    },
  };
}
