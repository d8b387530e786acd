/**
 * RunConfig: everything one run of a gadget is told, typed. The CLI, the daemon and the
 * library each build one at their edge (from argv, a gRPC request, options); nothing below the
 * edge sees yargs or argv. `runConfig()` fills the defaults and checks every value, so a bad one
 * is a usage error naming it before anything is pulled or loaded.
 */
import { IgError } from '../errors.js';
import type { OciOptions, PullPolicy } from '../oci/image.js';
import type { CollectionOptions } from '../containers/index.js';
import type { SelectionFlags } from '../containers/selector.js';
import type { OtlpTarget } from '../model/otlp.js';

export type { OtlpTarget } from '../model/otlp.js';

import { OUTPUT_FORMATS, type OutputFormat } from '../output/index.js';

export type { OutputFormat };

export interface RunConfig {
  /** image reference or short name (`trace_open`) */
  image: string;
  pull: PullPolicy;
  /** local store, credentials, plain-HTTP registries */
  oci: OciOptions;
  /** admission: signatures by these keys (PEM texts) required when `verifyImage`; references allowed to run */
  publicKeys: string[];
  verifyImage: boolean;
  /** undefined: any image; else the entries (comma lists allowed) of which one must match */
  allowedGadgets?: string[];
  /** gadget params by key, as text (`{ pid: '42', failed: 'true' }`) */
  params: Record<string, string>;
  output: OutputFormat;
  /** `a,b,c` (exactly these) or `+x,-y` (change the default set); undefined = the output's default */
  fields?: string;
  /** -F expressions, one per flag */
  filters: string[];
  /** toppers/snapshotters: sort keys (`-reads,comm`) and how many rows */
  sort?: string;
  maxEntries?: number;
  /** stop after this long (0 = until stopped) */
  timeoutMs: number;
  /** toppers: time between map reads and how many (0 = until stopped) */
  mapFetchIntervalMs: number;
  mapFetchCount: number;
  forcePerfBuffer: boolean;
  /** bytes of kernel buffer for each tracer's events (ring buffer, or perf buffers of all CPUs); undefined = by CPU count */
  bufferBytes?: number;
  /** run without the programs this kernel cannot load or attach (a missing feature), with a warning naming them */
  skipUnsupportedPrograms: boolean;
  /** container/pod selection (-c, --k8s-*, --host) */
  selection: SelectionFlags;
  /** which container runtimes to ask, and their sockets */
  runtimes: CollectionOptions;
  /** serve the gadget's metrics (maps, metrics.collect datasources) in Prometheus' format here (host:port) */
  metricsListen?: string;
  /** OpenTelemetry (IG's --otel-* flags): metrics pushed over OTLP, events sent as OTLP logs */
  otel: { metricsExporter?: OtlpTarget; logsExporter?: OtlpTarget };
  /** say at exit how many records the kernel handed over and how many were shown (IG_STATS) */
  stats: boolean;
}

/** What an edge may leave out. */
export type RunOptions = Partial<RunConfig> & Pick<RunConfig, 'image'>;

/** Longest timeout a timer can hold (setTimeout's limit, ~24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A duration given in seconds (`-t 5`, `-t 0.5`) as milliseconds; 0 = none. */
export function secondsFlag(flag: string, v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < 0) {
    throw new IgError('usage', `--${flag}: "${String(v)}" is not a number of seconds`, { hint: `e.g. --${flag} 5 (0 = no limit)` });
  }
  const ms = Math.round(n * 1000);
  if (ms > MAX_TIMER_MS) {
    throw new IgError('usage', `--${flag}: ${String(v)} seconds is longer than ig can wait (${Math.floor(MAX_TIMER_MS / 86_400_000)} days)`, {
      hint: `use --${flag} 0 to run until stopped`,
    });
  }
  return ms;
}

/** "500ms", "2s", "1m", "1.5s" or a bare number of seconds → milliseconds (> 0). */
export function parseDuration(flag: string, text: string): number {
  const m = String(text).trim().match(/^(\d+(?:\.\d+)?)(ms|s|m|h)?$/);
  if (!m) throw new IgError('usage', `--${flag}: "${text}" is not a duration`, { hint: 'use e.g. 500ms, 2s, 1m' });
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
  if (ms <= 0) throw new IgError('usage', `--${flag} must be greater than zero`);
  if (ms > MAX_TIMER_MS) throw new IgError('usage', `--${flag}: "${text}" is too long`, { hint: 'use at most a few days' });
  return ms;
}

/** `4M`, `512k`, `1048576` → bytes (k/K = 1024, m/M = 1024², g/G = 1024³). */
export function sizeFlag(flag: string, text: string): number {
  const m = String(text).trim().match(/^(\d+)\s*([kmg]?)i?b?$/i);
  if (!m) throw new IgError('usage', `--${flag}: "${text}" is not a size`, { hint: 'use e.g. 4M, 512k or a number of bytes' });
  const n = Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase());
  if (n < 4096 || n > 1024 ** 3) throw new IgError('usage', `--${flag}: ${text} is outside 4k…1G`);
  return n;
}

/** A count flag: a non-negative integer. */
export function countFlag(flag: string, v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0) throw new IgError('usage', `--${flag}: "${String(v)}" is not a non-negative integer`);
  return n;
}

/** Fill defaults and check every value. */
export function runConfig(o: RunOptions): RunConfig {
  if (!o.image) throw new IgError('usage', 'ig run needs a gadget image', { hint: 'e.g. `ig run trace_open`; `ig image list` shows the images you have' });
  const output = o.output ?? 'columns';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(output)) {
    throw new IgError('usage', `unknown output format "${output}"`, { hint: `use -o ${OUTPUT_FORMATS.join('|')}` });
  }
  const pull = o.pull ?? 'missing';
  if (!['always', 'missing', 'never'].includes(pull)) throw new IgError('usage', `--pull: "${pull}" is not always, missing or never`);
  const cfg: RunConfig = {
    image: o.image,
    pull,
    oci: o.oci ?? {},
    publicKeys: o.publicKeys ?? [],
    verifyImage: o.verifyImage ?? (o.publicKeys?.length ?? 0) > 0,
    allowedGadgets: o.allowedGadgets,
    params: o.params ?? {},
    output,
    fields: o.fields,
    filters: (o.filters ?? []).filter((f) => f !== undefined),
    sort: o.sort,
    maxEntries: o.maxEntries === undefined ? undefined : countFlag('max-entries', o.maxEntries) || undefined,
    timeoutMs: o.timeoutMs === undefined ? 0 : checkMs('timeout', o.timeoutMs),
    mapFetchIntervalMs: o.mapFetchIntervalMs === undefined ? 1000 : checkMs('map-fetch-interval', o.mapFetchIntervalMs, true),
    mapFetchCount: o.mapFetchCount === undefined ? 0 : countFlag('map-fetch-count', o.mapFetchCount),
    forcePerfBuffer: o.forcePerfBuffer ?? false,
    bufferBytes: o.bufferBytes,
    skipUnsupportedPrograms: o.skipUnsupportedPrograms ?? false,
    selection: o.selection ?? {},
    runtimes: o.runtimes ?? {},
    metricsListen: o.metricsListen,
    otel: o.otel ?? {},
    stats: o.stats ?? false,
  };
  if (cfg.verifyImage && cfg.publicKeys.length === 0) {
    throw new IgError('usage', '--verify-image needs at least one --public-key', { hint: "pass the signer's PEM public key, or --verify-image=false" });
  }
  return cfg;
}

function checkMs(flag: string, ms: number, positive = false): number {
  if (!Number.isFinite(ms) || ms < 0 || (positive && ms === 0) || ms > MAX_TIMER_MS) {
    throw new IgError('usage', `--${flag}: ${ms} ms is not a usable duration`);
  }
  return ms;
}
