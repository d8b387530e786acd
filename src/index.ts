/**
 * ig as a library: run a gadget from TypeScript and iterate over its events, with the same
 * engine as the CLI (container selection, filters, field selection, params).
 *
 *   for await (const batch of runGadget('trace_open', { params: { failed: 'true' }, timeoutMs: 5000 })) {
 *     for (const e of batch.events) console.log(e.pid, e.comm, e.fname);
 *   }
 *
 * Breaking out of the loop (or the timeout) stops the gadget and releases every kernel object
 * it created; aborting `signal` does the same and makes the loop throw an AbortError, as Node's
 * own iterables do. Needs root, like the CLI.
 */
import { runConfig, type RunConfig, type RunOptions as EngineOptions } from './engine/config.js';
import { runGadget as runEngine } from './engine/run.js';
import { Priority, type DataOperator } from './datasource/operator.js';
import { selectFields } from './operators/fields.js';
import type { OciOptions, PullPolicy } from './oci/image.js';
import type { SelectionFlags } from './containers/selector.js';
import type { Event } from './model/field.js';

export type { Event, FieldDesc, GadgetKind } from './model/field.js';
export { GadgetInstance } from './runtime/instance.js';
export { IgError } from './errors.js';
export type { RunConfig } from './engine/config.js';

/** One batch of events of one datasource. */
export interface EventBatch<E extends object = Event> {
  datasource: string;
  events: E[];
  /** events the kernel (or a full buffer) lost since the previous batch */
  lost?: number;
  /** toppers/snapshotters: a whole table, not a stream chunk */
  snapshot?: boolean;
}

export interface RunGadgetOptions extends OciOptions {
  /** gadget params by key, as on the command line (`{ pid: '42', failed: 'true' }`) */
  params?: Record<string, string>;
  pull?: PullPolicy;
  /** stop after this long (default: until the loop ends, the signal aborts, or a snapshotter is done) */
  timeoutMs?: number;
  signal?: AbortSignal;
  forcePerfBuffer?: boolean;
  /** kernel buffer bytes for each tracer (default 1 MiB per CPU) */
  bufferBytes?: number;
  /** run without programs this kernel cannot load or attach (a missing feature); warnings name them */
  skipUnsupportedPrograms?: boolean;
  /** toppers: time between map reads and how many (0 = until stopped) */
  mapFetchIntervalMs?: number;
  mapFetchCount?: number;
  /** the fields of each event: `a,b,c` or `+x,-y` (default: every field) */
  fields?: string;
  /** -F expressions (`fname~^/etc`, `pid==42`), all must hold */
  filters?: string[];
  /** toppers/snapshotters: sort keys and how many rows */
  sort?: string;
  maxEntries?: number;
  /** container/pod selection, as ig run's flags (`{ containername: 'web' }`) */
  selection?: SelectionFlags;
  /** serve the gadget's metrics for Prometheus on host:port (as --metrics-listen) */
  metricsListen?: string;
  /** OpenTelemetry: metrics pushed over OTLP/HTTP, events as OTLP logs (`{ metricsExporter: { url, intervalMs } }`) */
  otel?: RunConfig['otel'];
}

function abortError(signal: AbortSignal): Error {
  const e = new Error('The operation was aborted', { cause: signal.reason });
  e.name = 'AbortError';
  (e as NodeJS.ErrnoException).code = 'ABORT_ERR';
  return e;
}

/**
 * Pull (if needed), load and attach a gadget, and yield its batches as they come: one batch
 * per native wakeup for tracers, one per read for toppers, one table for snapshotters.
 */
export async function* runGadget<E extends object = Event>(ref: string, opts: RunGadgetOptions = {}): AsyncGenerator<EventBatch<E>, void, undefined> {
  if (opts.signal?.aborted) throw abortError(opts.signal);
  const engineOpts: EngineOptions = {
    image: ref,
    pull: opts.pull,
    oci: { store: opts.store, authfile: opts.authfile, insecureRegistries: opts.insecureRegistries },
    params: opts.params,
    output: 'json',
    fields: opts.fields,
    filters: opts.filters,
    sort: opts.sort,
    maxEntries: opts.maxEntries,
    timeoutMs: opts.timeoutMs,
    mapFetchIntervalMs: opts.mapFetchIntervalMs,
    mapFetchCount: opts.mapFetchCount,
    forcePerfBuffer: opts.forcePerfBuffer,
    bufferBytes: opts.bufferBytes,
    skipUnsupportedPrograms: opts.skipUnsupportedPrograms,
    selection: opts.selection,
    metricsListen: opts.metricsListen,
    otel: opts.otel,
  };
  const cfg = runConfig(engineOpts);
  const queue: EventBatch<E>[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let failure: unknown;
  const notify = () => wake?.();
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  // the output: event objects of the chosen fields, queued for the loop
  const output: DataOperator = {
    name: 'library',
    instantiate(ctx) {
      for (const ds of ctx.datasources) {
        if (!ds.referenced) continue; // consumed by an operator that shows its own (IG's Unreference)
        if (cfg.fields !== undefined && ds.fields.length) selectFields(ds.fields, cfg.fields);
        let version = -1;
        let names: string[] = [];
        ds.subscribe((b) => {
          if (version !== ds.version) {
            version = ds.version;
            names = (cfg.fields === undefined ? ds.fields : selectFields(ds.fields, cfg.fields)).map((f) => f.name);
          }
          const batch: EventBatch<E> = { datasource: ds.name, events: ds.events(b, names) as E[] };
          if (b.lost) batch.lost = b.lost;
          if (b.snapshot) batch.snapshot = true;
          ctx.stats.shown += b.count;
          queue.push(batch);
          notify();
        }, Priority.output, 'library');
      }
      return {};
    },
  };
  const running = runEngine(cfg, { output, notice: (t) => process.stderr.write(t) }, stop.signal).then(
    () => undefined,
    (err) => {
      failure = err;
    },
  ).finally(() => {
    finished = true;
    notify();
  });
  try {
    for (;;) {
      while (queue.length) yield queue.shift()!;
      if (opts.signal?.aborted) throw abortError(opts.signal);
      if (finished) break;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
    if (failure) throw failure;
  } finally {
    stop.abort();
    opts.signal?.removeEventListener('abort', onAbort);
    await running;
  }
}
