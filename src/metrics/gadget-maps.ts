import type { GadgetSpec, MetricMapSpec } from '../gadget/spec.js';
import { flatten } from '../btf/layout.js';
import { compileLayout, type RecordDecoder } from '../btf/decoder.js';
import { native } from '../runtime/native.js';
import { PERCPU_MAPS } from '../model/kernel.js';
import { familyFromEntries, type Labels, type MetricFamily, type HistogramSample } from './prometheus.js';

/** Key fields that place a histogram observation, rather than label it. */
const BUCKET_FIELDS = ['le', 'bucket', 'slot'];

interface Reader { spec: MetricMapSpec; fd: number; keySize: number; valueSize: number; perCpu: boolean; decodeKey: RecordDecoder }

/**
 * Reads a gadget's `counter_*`, `gauge_*` and `hist_*` maps (bumblebee's
 * convention) into Prometheus families: the key struct's fields are labels, the
 * value (u64; summed across CPUs for per-CPU maps) is the sample. A histogram key
 * carries its bucket in a field named `le` (upper bound) or `slot` (log2 slot).
 */
export function metricsReader(spec: GadgetSpec, mapFd: (name: string) => number, prefix = 'ig'): () => Promise<MetricFamily[]> {
  const readers: Reader[] = spec.metrics.map((m) => {
    const info = spec.maps.find((x) => x.name === m.map)!;
    const leaves = m.keyTypeId ? flatten(spec.btf, m.keyTypeId, isScalar(spec, m.keyTypeId) ? 'key' : '') : [];
    return { spec: m, fd: mapFd(m.map), keySize: info.keySize, valueSize: info.valueSize, perCpu: PERCPU_MAPS.has(info.type),
      decodeKey: compileLayout(leaves).decode };
  });
  return async () => readers.map((r) => readFamily(r, prefix));
}

function isScalar(spec: GadgetSpec, id: number): boolean {
  const k = spec.btf.resolve(id).type?.kind;
  return k !== 'struct' && k !== 'union';
}

function readFamily(r: Reader, prefix: string): MetricFamily {
  const n = native();
  const d = n.mapDump(r.fd, r.keySize, r.valueSize, { perCpu: r.perCpu });
  const ncpu = r.perCpu ? n.numPossibleCpus() : 1;
  const stride = r.perCpu ? Math.ceil(r.valueSize / 8) * 8 : r.valueSize;
  const kv = new DataView(d.keys.buffer, d.keys.byteOffset, d.keys.byteLength);
  const rows: { labels: Labels; value: bigint }[] = [];
  for (let i = 0; i < d.count; i++) {
    const labels = r.decodeKey(kv, d.keys, i * r.keySize) as Labels;
    let value = 0n;
    for (let c = 0; c < ncpu; c++) value += readUint(d.values, (i * ncpu + c) * stride, Math.min(r.valueSize, 8));
    rows.push({ labels, value });
  }
  const name = `${prefix}_${r.spec.name}`;
  if (r.spec.metric !== 'histogram') {
    return familyFromEntries(name, r.spec.metric, rows.map((x) => ({ labels: x.labels, value: x.value })), `from map ${r.spec.map}`);
  }
  return { name, help: `from map ${r.spec.map}`, type: 'histogram', samples: histogramSamples(rows) };
}

function readUint(b: Buffer, off: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i] ?? 0);
  return v;
}

/** Group rows by their labels minus the bucket field; each group is one histogram sample. */
function histogramSamples(rows: { labels: Labels; value: bigint }[]): HistogramSample[] {
  const groups = new Map<string, { labels: Labels; buckets: Map<number, bigint> }>();
  for (const { labels, value } of rows) {
    const bucketKey = BUCKET_FIELDS.find((k) => k in labels);
    const rest: Labels = { ...labels };
    let le = Infinity;
    if (bucketKey) {
      const raw = Number(labels[bucketKey]);
      le = bucketKey === 'slot' ? 2 ** (raw + 1) - 1 : raw;
      delete rest[bucketKey];
    }
    const id = JSON.stringify(rest, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { labels: rest, buckets: new Map() }));
    g.buckets.set(le, (g.buckets.get(le) ?? 0n) + value);
  }
  return [...groups.values()].map((g) => {
    const les = [...g.buckets.keys()].sort((a, b) => a - b);
    let sum = 0;
    let prev = 0;
    const buckets = [];
    for (const le of les) {
      const count = g.buckets.get(le)!;
      // No sum is kept in the map: estimate each observation at its bucket's midpoint.
      if (Number.isFinite(le)) {
        sum += Number(count) * ((prev + le) / 2);
        buckets.push({ le, count });
      }
      prev = le;
    }
    const total = [...g.buckets.values()].reduce((a, b) => a + b, 0n);
    return { labels: g.labels, buckets, sum, count: total };
  });
}
