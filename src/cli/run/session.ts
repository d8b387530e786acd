import type { GadgetInstance } from '../../runtime/instance.js';
import type { EventBatch } from '../../gadget/datasource.js';
import type { DataSourceSpec } from '../../gadget/spec.js';
import { parseFilters, compileFilter, kernelPushdown } from '../../operators/filter.js';
import { selectFields } from '../../operators/fields.js';
import { parseSort, sortBatch } from '../../operators/sort.js';
import { limitBatch, parseMaxEntries } from '../../operators/limit.js';
import { LostCounter } from '../../operators/lost.js';
import { sinkFor } from './sinks.js';
import { directJsonSinks } from './direct.js';
import { blockingStdoutPipe } from '../../output/stdout.js';
import { ContainerStage } from './containers.js';
import { startMetricsServer } from '../../metrics/server.js';
import { metricsReader } from '../../metrics/gadget-maps.js';
import { parseDuration } from './duration.js';
import type { Sink } from '../../output/sink.js';

type Args = Record<string, unknown>;

/**
 * Where a session's output goes. The CLI prints (the default); the daemon sends
 * each datasource's fields and batches to a remote client instead.
 */
export interface SessionIO {
  /** the sink for a datasource, made once its fields are known */
  sinkFor?: (ds: DataSourceSpec, lost: LostCounter) => Sink;
  /** messages for the user (lost events, skipped records): stderr by default */
  notice?: (text: string) => void;
}

/** One datasource's path from decoded batch to output. */
interface Route {
  ds: DataSourceSpec;
  accept: (b: EventBatch) => EventBatch;
  sink?: Sink;
}

/**
 * Load, attach and run a gadget, pushing each batch through filter → sort/limit →
 * sink, until --timeout, Ctrl-C, or every source is done (snapshotters,
 * --map-fetch-count). Everything is released on every path (the caller closes
 * the instance).
 */
export async function runGadgetSession(inst: GadgetInstance, args: Args, params: Record<string, string>, stop: AbortSignal, io: SessionIO = {}): Promise<void> {
  const containers = await ContainerStage.open(inst, args);
  try {
    await runWith(inst, args, params, containers, stop, io);
  } finally {
    await containers?.close();
  }
}

async function runWith(
  inst: GadgetInstance, args: Args, params: Record<string, string>, containers: ContainerStage | null, stop: AbortSignal, io: SessionIO,
): Promise<void> {
  const notice = io.notice ?? ((t: string) => process.stderr.write(t));
  const notices = { write: (t: string) => (notice(t), true) };
  if (!io.sinkFor) blockingStdoutPipe();
  const lost = new LostCounter({ stream: notices });
  const output = String(args.output ?? 'columns');
  const filterSpecs = (args.filter as string[] | undefined) ?? [];
  const sortKeys = args.sort as string | undefined;
  const maxEntries = parseMaxEntries(args['max-entries']);

  // Filters on pid/comm/… go into the kernel when the gadget has those params and the user did not set them.
  const routes = new Map<string, Route>();
  for (const ds of inst.spec.datasources) {
    const known = ds.fields.length > 0; // text iterators learn their fields from the first records
    const filters = known ? parseFilters(filterSpecs, ds.fields) : [];
    if (known) {
      const push = kernelPushdown(filters) as Record<string, string | number | undefined>;
      for (const [key, v] of Object.entries(push)) {
        if (v === undefined || params[key] !== undefined) continue;
        if (inst.spec.params.some((p) => p.key === key)) params[key] = String(v);
      }
      if (args.fields !== undefined) selectFields(ds.fields, String(args.fields)); // fail early on unknown fields
    }
    routes.set(ds.name, { ds, accept: makeAccept(ds, filterSpecs, sortKeys, maxEntries) });
  }

  inst.configure({ params, forcePerfBuffer: !!args['force-perf-buffer'], mntnsFilter: containers?.kernelFilter(inst) ?? null });
  inst.load();
  containers?.start(inst);
  inst.attach();
  const metricsAddr = args['metrics-listen'] as string | undefined;
  const metrics = metricsAddr ? await startMetricsServer(metricsAddr, metricsReader(inst.spec, (m) => inst.mapFd(m))) : undefined;
  if (metrics) notice(`serving metrics on ${metrics.url}\n`);

  // `-o json` with nothing in between: records go to JSON text undecoded (see direct.ts).
  const direct = directJsonSinks(inst, {
    output, fieldsSpec: args.fields === undefined ? undefined : String(args.fields), filters: filterSpecs,
    toStdout: !io.sinkFor, containers,
  }, lost);
  for (const [name, sink] of direct) routes.get(name)!.sink = sink;

  const sinkOf = (r: Route): Sink => {
    r.sink ??= io.sinkFor ? io.sinkFor(r.ds, lost) : sinkFor(output, r.ds.fields, lost, args.fields === undefined ? undefined : String(args.fields));
    return r.sink;
  };

  // IG_STATS=1: say at exit how many records the kernel handed over and how many were shown, so the
  // effect of in-kernel filtering can be checked (the benchmark and the container tests use it).
  const stats = { received: 0, shown: 0 };
  let failure: unknown;
  /** A batch past the container stage: operators, then the sink. */
  const deliver = (b: EventBatch) => {
    const r = routes.get(b.datasource);
    if (!r) return;
    const out = r.accept(b);
    stats.shown += out.events.length;
    if (out.events.length || out.snapshot || out.lost) sinkOf(r).write(out);
  };
  /** `ig run … | head`: the reader went away; stop quietly, as other Unix tools do. */
  let readerGone = false;
  const fail = (err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') readerGone = true;
    else failure ??= err;
    wake();
  };
  /** Batches arrive from native callbacks and timers: a failure stops the session instead of escaping. */
  const guarded = <A extends unknown[]>(fn: (...a: A) => void) => (...a: A) => {
    try {
      fn(...a);
    } catch (err) {
      fail(err);
    }
  };
  const onBatch = guarded((b: EventBatch) => {
    stats.received += b.events.length;
    lost.add(b.lost);
    for (const w of b.warnings ?? []) notice(`warning: ${w}\n`);
    deliver(containers ? containers.apply(b) : b);
  });
  if (containers) {
    // Events of a container that started after us, held until its runtime named it, arrive here.
    containers.release = guarded(deliver);
    containers.lost = (n) => lost.add(n);
  }

  let wake!: () => void;
  const stopped = new Promise<void>((r) => (wake = r));
  if (stop.aborted) wake();
  stop.addEventListener('abort', () => wake(), { once: true });
  process.stdout.on('error', fail);
  const timeout = Number(args.timeout ?? 0);
  const timer = timeout > 0 ? setTimeout(wake, timeout * 1000) : undefined;
  try {
    const done = inst.start(onBatch, {
      mapFetchIntervalMs: parseDuration('map-fetch-interval', String(args['map-fetch-interval'] ?? '1s')),
      mapFetchCount: Number(args['map-fetch-count'] ?? 0),
      netnsPaths: containers ? () => containers.netnsPaths() : undefined,
      rawRecords: (ds) => {
        const sink = direct.get(ds.name);
        if (!sink) return undefined;
        return guarded((records, n) => {
          stats.received += records.offsets.length;
          lost.add(n);
          stats.shown += sink.writeRecords(records, n);
        });
      },
    });
    // A gadget with only metrics maps has no source that ends: it serves until stopped.
    await Promise.race([stopped, done.length ? Promise.all(done) : stopped]);
    await inst.stop();
  } finally {
    await metrics?.close();
    clearTimeout(timer);
    if (containers) {
      containers.release = () => {}; // a decision arriving now has nowhere to go
      containers.discardHeld();
    }
    if (!readerGone) for (const r of routes.values()) await r.sink?.end();
    lost.reportTotal(notices);
    if (process.env.IG_STATS) {
      // held: events of namespaces that passed the kernel's deny list because no one knew them yet,
      // and then turned out not to be selected
      notice(`ig-stats: received=${stats.received} shown=${stats.shown} held-dropped=${containers?.dropped ?? 0} lost=${lost.total}\n`);
    }
  }
  if (failure) throw failure;
}

function makeAccept(ds: DataSourceSpec, filterSpecs: string[], sortSpec: string | undefined, max: number | undefined) {
  let pred: ((e: Record<string, unknown>) => boolean) | undefined;
  let ready = false;
  return (b: EventBatch): EventBatch => {
    if (!ready) {
      // Fields of text iterators are known only now.
      if (filterSpecs.length) pred = compileFilter(parseFilters(filterSpecs, ds.fields));
      ready = true;
    }
    let out = pred ? { ...b, events: b.events.filter(pred) } : b;
    if (b.snapshot) {
      if (sortSpec) out = sortBatch(out, parseSort(sortSpec, ds.fields));
      out = limitBatch(out, max);
    }
    return out;
  };
}
