/**
 * The typed run request of spec/ig.proto, and the RunConfig on either side of it. A client
 * sends only what a run shows and selects; everything that names the node's files, sockets,
 * ports or trust (store, credentials, runtime sockets, keys, metrics) is the daemon's own
 * configuration and cannot be in a request.
 */
import { runConfig, type RunConfig, type OutputFormat } from '../engine/config.js';
import type { PullPolicy, OciOptions } from '../oci/image.js';
import type { CollectionOptions } from '../containers/index.js';
import { parseRuntimes } from '../containers/collection.js';

export interface SelectionMsg {
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
}

const orUndefined = (s: string | undefined) => (s ? s : undefined);

/** The daemon's side: a request, checked like any flags, over the daemon's own settings. */
export function fromRequest(req: RunRequestMsg, d: DaemonRunSettings): RunConfig {
  const s = req.selection ?? ({} as SelectionMsg);
  return runConfig({
    image: req.image,
    pull: (orUndefined(req.pull) ?? 'missing') as PullPolicy,
    oci: d.oci,
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
