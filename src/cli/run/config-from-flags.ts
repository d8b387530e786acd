/** `ig run`'s parsed flags → the engine's typed RunConfig. The only place that knows both. */
import { runConfig, secondsFlag, parseDuration, countFlag, sizeFlag, type RunConfig, type OutputFormat } from '../../engine/config.js';
import type { PullPolicy } from '../../oci/image.js';
import { collectionOptionsFromArgs } from '../container-options.js';
import { ociOptionsFrom } from '../oci-args.js';
import type { GlobalArgs } from '../options.js';
import { otlpTarget } from './otel-targets.js';

type Flags = Record<string, unknown>;

const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));

/** `operators`: IG's `operator.*` sections of the config file (named OTel exporters). */
export function runConfigFromFlags(image: string, a: Flags, params: Record<string, string> = {}, operators: Record<string, Record<string, unknown>> = {}): RunConfig {
  const selection = {
    containername: str(a.containername),
    'k8s-namespace': str(a['k8s-namespace']),
    'k8s-podname': str(a['k8s-podname']),
    'k8s-containername': str(a['k8s-containername']),
    'k8s-selector': str(a['k8s-selector']),
    // undefined: ig's default (everything); false: containers only (IG's default)
    host: a.host === undefined ? undefined : a.host === true || a.host === 'true',
  };
  return runConfig({
    image,
    pull: (str(a.pull) ?? 'missing') as PullPolicy,
    oci: ociOptionsFrom(a as GlobalArgs),
    publicKeys: (a['public-key'] as string[] | undefined) ?? [],
    verifyImage: a['verify-image'] === undefined ? undefined : Boolean(a['verify-image']),
    allowedGadgets: a['allowed-gadgets'] === undefined ? undefined : [String(a['allowed-gadgets'])],
    params,
    output: (str(a.output) ?? 'columns') as OutputFormat,
    fields: str(a.fields),
    filters: ((a.filter as string[] | undefined) ?? []).map(String),
    sort: str(a.sort),
    maxEntries: a['max-entries'] === undefined ? undefined : countFlag('max-entries', a['max-entries']),
    timeoutMs: secondsFlag('timeout', a.timeout ?? 0),
    mapFetchIntervalMs: parseDuration('map-fetch-interval', str(a['map-fetch-interval']) ?? '1s'),
    mapFetchCount: countFlag('map-fetch-count', a['map-fetch-count'] ?? 0),
    forcePerfBuffer: Boolean(a['force-perf-buffer']),
    bufferBytes: a['buffer-size'] === undefined ? undefined : sizeFlag('buffer-size', String(a['buffer-size'])),
    skipUnsupportedPrograms: Boolean(a['skip-unsupported-programs']),
    selection,
    runtimes: collectionOptionsFromArgs(a),
    metricsListen: str(a['metrics-listen']) ?? (a['otel-metrics-listen'] === true ? str(a['otel-metrics-listen-address']) ?? '0.0.0.0:2224' : undefined),
    otel: {
      metricsExporter: otlpTarget(str(a['otel-metrics-exporter']), 'metrics', operators),
      logsExporter: otlpTarget(str(a['otel-logs-exporter']), 'logs', operators),
    },
    stats: Boolean(process.env.IG_STATS),
  });
}
