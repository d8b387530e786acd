/**
 * The typed run request of spec/ig.proto, and the RunConfig on either side of it. A client
 * sends only what a run shows and selects; everything that names the node's files, sockets,
 * ports or trust (store, credentials, runtime sockets, keys, metrics) is the daemon's own
 * configuration and cannot be in a request.
 */
import { runConfig, sizeFlag, type RunConfig, type OutputFormat } from '../engine/config.js';
import type { PullPolicy, OciOptions } from '../oci/image.js';
import type { CollectionOptions } from '../containers/index.js';
import { parseRuntimes } from '../containers/collection.js';
import { admissionFields, checkImageRequest, type DaemonPolicy } from './policy.js';

interface SelectionMsg {
  containername: string;
  k8s_namespace: string;
  k8s_podname: string;
  k8s_containername: string;
  k8s_selector: string;
  host: boolean;
  containers_only?: boolean;
  runtimes: string;
}

export interface RunRequestMsg {
  image: string;
  pull: string;
  params: Record<string, string>;
  output: string;
  has_fields: boolean;
  fields: string;
  filters: string[];
  sort: string;
  max_entries: number;
  timeout_seconds: number;
  map_fetch_interval_ms: number;
  map_fetch_count: number;
  force_perf_buffer: boolean;
  selection: SelectionMsg;
  buffer_bytes: number;
  skip_unsupported_programs?: boolean;
}

/** The client's side: what of its RunConfig goes to the nodes. */
export function toRequest(cfg: RunConfig): RunRequestMsg {
  const s = cfg.selection;
  return {
    image: cfg.image,
    pull: cfg.pull,
    params: cfg.params,
    output: cfg.output,
    has_fields: cfg.fields !== undefined,
    fields: cfg.fields ?? '',
    filters: cfg.filters,
    sort: cfg.sort ?? '',
    max_entries: cfg.maxEntries ?? 0,
    timeout_seconds: cfg.timeoutMs / 1000,
    map_fetch_interval_ms: cfg.mapFetchIntervalMs,
    map_fetch_count: cfg.mapFetchCount,
    force_perf_buffer: cfg.forcePerfBuffer,
    buffer_bytes: cfg.bufferBytes ?? 0,
    skip_unsupported_programs: cfg.skipUnsupportedPrograms,
    selection: {
      containername: s.containername ?? '',
      k8s_namespace: s['k8s-namespace'] ?? '',
      k8s_podname: s['k8s-podname'] ?? '',
      k8s_containername: s['k8s-containername'] ?? '',
      k8s_selector: s['k8s-selector'] ?? '',
      host: !!s.host,
      runtimes: cfg.runtimes.runtimes?.join(',') ?? '',
      containers_only: s.host === false,
    },
  };
}

/** What the daemon itself decides for every run it serves. */
export interface DaemonRunSettings {
  oci: OciOptions;
  runtimes: CollectionOptions;
  policy: DaemonPolicy;
}

const orUndefined = (s: string | undefined) => (s ? s : undefined);

/** Kernel memory a client may ask for each tracer's buffer: larger requests are lowered (with a notice). */
const MAX_CLIENT_BUFFER_BYTES = 64 * 1024 * 1024;

/**
 * The daemon's side: a request, checked like any flags, over the daemon's own settings and
 * under its policy (registries and pull checked here, before anything is pulled; signatures and
 * the allow-list by the engine's admission, on what it loads). `notice` hears when the policy
 * lowered what the client asked for.
 */
export function fromRequest(req: RunRequestMsg, d: DaemonRunSettings, notice: (line: string) => void = () => {}): RunConfig {
  const s = req.selection ?? ({} as SelectionMsg);
  const asked = (orUndefined(req.pull) ?? 'missing') as PullPolicy;
  const image = checkImageRequest(d.policy, req.image, asked);
  if (image.capped) notice(`${image.capped}\n`);
  let buffer = req.buffer_bytes || 0;
  if (buffer > MAX_CLIENT_BUFFER_BYTES) {
    notice(`warning: this node gives a remote run at most ${MAX_CLIENT_BUFFER_BYTES >> 20} MiB of buffer per tracer (asked: ${Math.round(buffer / 1048576)} MiB)\n`);
    buffer = MAX_CLIENT_BUFFER_BYTES;
  }
  return runConfig({
    image: req.image,
    pull: image.pull,
    oci: d.oci,
    ...admissionFields(d.policy),
    params: { ...req.params },
    output: 'json',
    fields: req.has_fields ? req.fields : undefined,
    filters: req.filters ?? [],
    sort: orUndefined(req.sort),
    maxEntries: req.max_entries || undefined,
    timeoutMs: Math.round((req.timeout_seconds || 0) * 1000),
    mapFetchIntervalMs: req.map_fetch_interval_ms || 1000,
    mapFetchCount: req.map_fetch_count || 0,
    forcePerfBuffer: !!req.force_perf_buffer,
    bufferBytes: buffer ? sizeFlag('buffer-size', String(buffer)) : undefined,
    skipUnsupportedPrograms: !!req.skip_unsupported_programs,
    selection: {
      containername: orUndefined(s.containername),
      'k8s-namespace': orUndefined(s.k8s_namespace),
      'k8s-podname': orUndefined(s.k8s_podname),
      'k8s-containername': orUndefined(s.k8s_containername),
      'k8s-selector': orUndefined(s.k8s_selector),
      // not said: the default (everything); --host=false: containers only
      host: s.containers_only ? false : s.host ? true : undefined,
    },
    runtimes: { ...d.runtimes, runtimes: s.runtimes ? parseRuntimes(s.runtimes) : d.runtimes.runtimes },
  });
}

/** The client's format, for the daemon's choice of default fields. */
export function clientFormat(req: RunRequestMsg): OutputFormat {
  return (req.output || 'json') as OutputFormat;
}
