/**
 * Prometheus text exposition format 0.0.4.
 *
 * Histograms from log2 slots (bumblebee `hist_*` maps, IG `gadget_histogram_slot__*` fields):
 * slot i counts integer values in [2^i, 2^(i+1)), so its upper bound, inclusive, is 2^(i+1)-1 and
 * it becomes the bucket `le="2^(i+1)-1"` (slot 0 → le="1", which also holds the value 0 that log2
 * implementations put in slot 0; slot 1 → le="3", slot 2 → le="7", …). Buckets are cumulative and
 * end with `le="+Inf"` = `_count`. The slots do not carry the sum of the observed values, so
 * `_sum` is estimated from each slot's midpoint unless the caller knows it.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';
export type Labels = Record<string, string | number | bigint | boolean>;

export interface ScalarSample {
  labels?: Labels;
  value: number | bigint;
}

export interface HistogramBucket {
  /** upper bound (inclusive) */
  le: number;
  /** observations in this bucket only (not cumulative): previous le < v ≤ le */
  count: number | bigint;
}

export interface HistogramSample {
  labels?: Labels;
  /** ascending `le`; the renderer makes them cumulative and adds `+Inf` */
  buckets: HistogramBucket[];
  sum: number | bigint;
  /** total observations; defaults to the sum of the bucket counts (a larger value counts as overflow into +Inf) */
  count?: number | bigint;
}

export interface ScalarFamily {
  name: string;
  help?: string;
  type: 'counter' | 'gauge';
  samples: ScalarSample[];
}

export interface HistogramFamily {
  name: string;
  help?: string;
  type: 'histogram';
  samples: HistogramSample[];
}

export type MetricFamily = ScalarFamily | HistogramFamily;

/** A metric name as Prometheus allows it: [a-zA-Z_:][a-zA-Z0-9_:]*; other characters become `_`. */
export function sanitizeMetricName(n: string): string {
  const s = n.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[a-zA-Z_:]/.test(s) ? s : '_' + s;
}

/** A label name: [a-zA-Z_][a-zA-Z0-9_]* (`k8s.podName` → `k8s_podName`). */
export function sanitizeLabelName(n: string): string {
  const s = n.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[a-zA-Z_]/.test(s) ? s : '_' + s;
}

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(v: number | bigint): string {
  if (typeof v === 'bigint') return v.toString();
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelText(labels: Labels | undefined, extra?: [string, string]): string {
  const parts: string[] = [];
  if (labels) {
    for (const k of Object.keys(labels)) {
      parts.push(`${sanitizeLabelName(k)}="${escapeLabelValue(String(labels[k]))}"`);
    }
  }
  if (extra) parts.push(`${extra[0]}="${extra[1]}"`);
  return parts.length ? '{' + parts.join(',') + '}' : '';
}

function add(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    const x = typeof a === 'bigint' ? a : BigInt(Math.round(a));
    const y = typeof b === 'bigint' ? b : BigInt(Math.round(b));
    return x + y;
  }
  return a + b;
}

function greater(a: number | bigint, b: number | bigint): boolean {
  return typeof a === typeof b ? a > b : BigInt(a) > BigInt(b);
}

/** Render families in the text format (0.0.4). Families with the same name should be merged by the caller. */
export function renderPrometheus(families: readonly MetricFamily[]): string {
  let out = '';
  for (const f of families) {
    const name = sanitizeMetricName(f.name);
    if (f.help !== undefined) out += `# HELP ${name} ${escapeHelp(f.help)}\n`;
    out += `# TYPE ${name} ${f.type}\n`;
    if (f.type === 'histogram') {
      for (const s of f.samples) {
        let cum: number | bigint = 0;
        for (const b of s.buckets) {
          cum = add(cum, b.count);
          out += `${name}_bucket${labelText(s.labels, ['le', formatValue(b.le)])} ${formatValue(cum)}\n`;
        }
        const count = s.count !== undefined && greater(s.count, cum) ? s.count : cum;
        out += `${name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${formatValue(count)}\n`;
        out += `${name}_sum${labelText(s.labels)} ${formatValue(s.sum)}\n`;
        out += `${name}_count${labelText(s.labels)} ${formatValue(count)}\n`;
      }
    } else {
      for (const s of f.samples) out += `${name}${labelText(s.labels)} ${formatValue(s.value)}\n`;
    }
  }
  return out;
}

/**
 * log2 slots → a histogram sample: slot i → bucket le = 2^(i+1)-1 (see the module comment).
 * Trailing empty slots are dropped (the +Inf bucket covers them). `sum` defaults to the estimate
 * Σ count_i × (2^i + 2^(i+1)-1)/2.
 */
export function histogramFromLog2Slots(
  slots: ReadonlyArray<number | bigint>,
  labels?: Labels,
  sum?: number | bigint,
): HistogramSample {
  let last = slots.length - 1;
  while (last >= 0 && Number(slots[last]) === 0) last--;
  const buckets: HistogramBucket[] = [];
  let est = 0;
  for (let i = 0; i <= last; i++) {
    const c = slots[i]!;
    buckets.push({ le: 2 ** (i + 1) - 1, count: c });
    est += Number(c) * ((2 ** i + 2 ** (i + 1) - 1) / 2);
  }
  return { labels, buckets, sum: sum ?? est };
}

export interface MetricEntry {
  /** the key struct's fields (dotted names are fine: they are sanitized to label names) */
  labels?: Labels;
  /** counter/gauge: the value; histogram: the log2 slots */
  value: number | bigint | ReadonlyArray<number | bigint>;
}

/**
 * One family from a metrics map's entries (`counter_*`, `gauge_*`, `hist_*` maps or IG's
 * `gadget_counter__*` / `gadget_gauge__*` / `gadget_histogram_slot__*` fields).
 */
export function familyFromEntries(
  name: string,
  type: MetricType,
  entries: readonly MetricEntry[],
  help?: string,
): MetricFamily {
  if (type === 'histogram') {
    return {
      name,
      help,
      type,
      samples: entries.map((e) =>
        histogramFromLog2Slots(Array.isArray(e.value) ? (e.value as Array<number | bigint>) : [e.value as number | bigint], e.labels),
      ),
    };
  }
  return {
    name,
    help,
    type,
    samples: entries.map((e) => {
      if (Array.isArray(e.value)) throw new TypeError(`metric ${name}: a ${type} needs one value per entry, got an array`);
      return { labels: e.labels, value: e.value as number | bigint };
    }),
  };
}

/**
 * Merge families with the same name (several gadgets or nodes), keeping the first help and type.
 * A later family of the same name with another type is an error (Prometheus would reject it).
 */
export function mergeFamilies(families: readonly MetricFamily[]): MetricFamily[] {
  const byName = new Map<string, MetricFamily>();
  for (const f of families) {
    const key = sanitizeMetricName(f.name);
    const prev = byName.get(key);
    if (!prev) {
      byName.set(key, { ...f, samples: [...f.samples] } as MetricFamily);
      continue;
    }
    if (prev.type !== f.type) throw new TypeError(`metric ${key} is both a ${prev.type} and a ${f.type}`);
    (prev.samples as unknown[]).push(...f.samples);
    if (prev.help === undefined) prev.help = f.help;
  }
  return [...byName.values()];
}
