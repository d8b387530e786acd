/**
 * The run engine: one gadget run from a typed RunConfig to the last byte of output, the same
 * for the CLI, the daemon and the library.
 *
 *   prepareGadget   pull (as the config says), admit (signatures, allow-list), parse the object
 *                   into its read-only GadgetSpec
 *   describeGadget  the params and the datasources' fields as the operators make them (--help)
 *   runPrepared     datasources from the spec, the operator chain instantiated, then: preStart →
 *                   configure and load → start → attach → sources run → stop → close, every kernel
 *                   object released on every path
 */
import { IgError } from '../errors.js';
import type { GadgetImage } from '../oci/image.js';
import { GadgetInstance } from '../runtime/instance.js';
import type { SourceBatch } from '../runtime/sources/index.js';
import type { GadgetSpec } from '../gadget/spec.js';
import type { ParamSpec } from '../gadget/params.js';
import { annotateFields } from '../gadget/metadata.js';
import { readMetadata } from '../gadget/metadata-cache.js';
import { loadWasmRuntime } from '../wasm/operator.js';
import { Batch } from '../datasource/batch.js';
import { RunDataSource } from '../datasource/datasource.js';
import { LostCounter } from '../datasource/lost.js';
import type { DataOperator, KernelAccess, KernelRequests, OperatorInstance, RunContext } from '../datasource/operator.js';
import type { RunField } from '../datasource/field.js';
import type { GadgetKind } from '../model/field.js';
import { admittedImage } from './admission.js';
import { runConfig, type RunConfig } from './config.js';
import { operatorChain, OPERATOR_ONLY } from './chain.js';
import { mark } from '../timings.js';
import { builderVersionWarning } from './builder-version.js';

/** An image ready to run: pulled, admitted, its object parsed (nothing in the kernel yet). */
export interface PreparedGadget {
  image: GadgetImage;
  spec: GadgetSpec;
  /** the parsed object, loaded by the run that takes it */
  instance: GadgetInstance;
  close(): Promise<void>;
}

/** imageRead: called once the image is read, before its object is parsed (the CLI gives start-up memory back there). */
export async function prepareGadget(cfg: RunConfig, stop?: AbortSignal, imageRead?: (image: GadgetImage) => void): Promise<PreparedGadget> {
  mark('engine');
  const image = await admittedImage(cfg, stop);
  mark('image read');
  imageRead?.(image);
  const metadata = await readMetadata(image.metadata);
  const wasm = image.wasm ? { bytes: image.wasm, digest: image.wasmDigest!, image: image.reference } : undefined;
  const instance = image.ebpf ? GadgetInstance.open(image.ebpf, metadata, image.reference, wasm) : GadgetInstance.operatorOnly(metadata, OPERATOR_ONLY);
  if (instance.spec.wasm) await loadWasmRuntime();
  mark('object parsed, spec built');
  return { image, spec: instance.spec, instance, close: () => instance.close() };
}

export interface RunIO {
  /** the operator at the end of every datasource's chain (the CLI's stdout, the daemon's stream, the library's queue) */
  output: DataOperator;
  /** a line for the user */
  notice(text: string): void;
  /** the gadget is loaded and attached: events flow from now on (the daemon's headless instances wait for it) */
  attached?(): void;
}

export interface GadgetDescription {
  reference: string;
  description?: string;
  params: ParamSpec[];
  datasources: { name: string; kind: GadgetKind; fields: readonly RunField[] }[];
}

/** Params and fields as a run would have them, without loading anything (`ig run IMAGE --help`). */
export function describeGadget(p: PreparedGadget, cfg: RunConfig): GadgetDescription {
  return { reference: p.image.reference, ...describeSpec(p.spec, cfg) };
}

/** The datasources of a spec with the fields the operators add (formatted, container fields). */
export function describeSpec(spec: GadgetSpec, cfg: RunConfig = runConfig({ image: 'describe' })): Omit<GadgetDescription, 'reference'> {
  const none: DataOperator = { name: 'none', instantiate: () => undefined };
  const run = new GadgetRun('describe', spec, cfg, { notice: () => {}, output: none });
  run.instantiate(operatorChain(cfg, none));
  return {
    description: spec.metadata?.description,
    params: spec.params,
    datasources: run.datasources.map((ds) => ({ name: ds.name, kind: ds.kind, fields: ds.fields })),
  };
}

export interface RunSummary {
  received: number;
  shown: number;
  lost: number;
}

/** Run a prepared gadget until the config's timeout, `stop`, or every source is done; then release everything. */
export async function runPrepared(p: PreparedGadget, cfg: RunConfig, io: RunIO, stop: AbortSignal): Promise<RunSummary> {
  const built = builderVersionWarning(p.image.annotations);
  if (built) io.notice(built);
  const run = new GadgetRun('run', p.spec, cfg, io, p.instance);
  return run.run(stop);
}

/** prepareGadget + runPrepared, closing what it opened. */
export async function runGadget(cfg: RunConfig, io: RunIO, stop: AbortSignal): Promise<RunSummary> {
  const p = await prepareGadget(cfg, stop);
  try {
    return await runPrepared(p, cfg, io, stop);
  } finally {
    await p.close();
  }
}

/**
 * The context operators see (RunContext): the run's datasources, notices, lost-event counts,
 * what the kernel side should do. Everything but the kernel lifecycle, so operators can also be
 * instantiated and fed without a gadget (--help, unit tests).
 */
export class RunHost implements RunContext {
  readonly datasources: RunDataSource[];
  readonly lost: LostCounter;
  readonly kernelRequests: KernelRequests = { params: new Map(), mntnsFilter: null, disabledPrograms: new Set() };
  readonly stats = { received: 0, shown: 0, heldDropped: 0, lateDropped: 0 };
  protected netns?: () => string[];
  protected loaded = false;
  protected failure: unknown;
  protected readerGone = false;
  protected wake: () => void = () => {};
  protected instances: OperatorInstance[] = [];

  constructor(
    readonly mode: 'run' | 'describe',
    readonly spec: GadgetSpec,
    readonly io: RunIO,
    datasources?: RunDataSource[],
    protected readonly inst?: GadgetInstance,
  ) {
    this.lost = new LostCounter({ stream: { write: (t: string) => (io.notice(t), true) } });
    this.datasources = datasources ?? spec.datasources.map((ds) => {
      const r = new RunDataSource({ name: ds.name, kind: ds.kind, layout: ds.layout, recordSize: ds.recordSize, fields: ds.fields });
      Object.assign(r.annotations, ds.annotations);
      return r;
    });
  }

  // ---- RunContext ----

  datasource(name: string): RunDataSource | undefined {
    return this.datasources.find((d) => d.name === name);
  }

  addDataSource(name: string, kind: GadgetKind): RunDataSource {
    if (this.datasource(name)) throw new IgError('usage', `a datasource named "${name}" already exists`);
    const ds = new RunDataSource({ name, kind });
    this.datasources.push(ds);
    return ds;
  }

  notice(text: string): void {
    this.io.notice(text);
  }

  get kernel(): KernelAccess {
    const inst = this.inst;
    if (!inst || !this.loaded) throw new IgError('internal', 'the gadget is not loaded yet');
    return {
      mapFd: (m) => inst.mapFd(m),
      hasFilterMap: () => inst.hasFilterMap(),
      canDenyMntns: () => inst.canDenyMntns(),
      setMntnsFilter: (ids) => inst.setMntnsFilter(ids),
      setAttachTargets: (t) => inst.setAttachTargets(t),
    };
  }

  pauseStreams(on: boolean): void {
    this.inst?.pauseStreams(on);
  }

  setNetnsPaths(paths: () => string[]): void {
    this.netns = paths;
  }

  emit(ds: RunDataSource, b: Batch, after?: number): void {
    this.guard(() => ds.emit(b, after));
  }

  /** Ask every operator to take part; a bad flag fails here, before anything is loaded. */
  instantiate(ops: DataOperator[]): OperatorInstance[] {
    for (const op of ops) {
      const inst = op.instantiate(this);
      if (inst) this.instances.push(inst);
    }
    return this.instances;
  }

  /** The first failure of a batch's path (an EPIPE from a reader that went away is not one). */
  get error(): unknown {
    return this.failure;
  }

  /** Batches arrive from native callbacks and timers: a failure stops the run instead of escaping. */
  protected guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.fail(err);
    }
  }

  /** `ig run … | head`: the reader went away; stop quietly, as other Unix tools do. */
  protected fail(err: unknown): void {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') this.readerGone = true;
    else this.failure ??= err;
    this.wake();
  }
}

class GadgetRun extends RunHost {
  constructor(mode: 'run' | 'describe', spec: GadgetSpec, private readonly cfg: RunConfig, io: RunIO, inst?: GadgetInstance) {
    super(mode, spec, io, undefined, inst);
  }

  async run(stop: AbortSignal): Promise<RunSummary> {
    const inst = this.inst!;
    const cfg = this.cfg;
    const stopped = new Promise<void>((r) => (this.wake = r));
    const onAbort = () => this.wake();
    stop.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      this.instantiate(operatorChain(cfg, this.io.output));
      mark('operators instantiated');
      for (const i of this.instances) await i.preStart?.();
      mark('operators pre-started');
      if (stop.aborted) return this.summary();
      // params the operators asked for (a -F pid==42 pushed into the kernel), unless the user set them
      const params: Record<string, string> = {};
      for (const [k, v] of this.kernelRequests.params) params[k] = v;
      Object.assign(params, cfg.params);
      inst.configure({
        params, forcePerfBuffer: cfg.forcePerfBuffer, bufferBytes: cfg.bufferBytes, mntnsFilter: this.kernelRequests.mntnsFilter,
        skipUnsupportedPrograms: cfg.skipUnsupportedPrograms, warn: (t) => this.notice(`warning: ${t}\n`),
      });
      inst.load();
      mark('loaded');
      this.loaded = true;
      for (const i of this.instances) await i.start?.();
      const onBatch = (b: SourceBatch) => this.guard(() => this.onSource(b));
      const startOpts = {
        mapFetchIntervalMs: cfg.mapFetchIntervalMs,
        mapFetchCount: cfg.mapFetchCount,
        netnsPaths: this.netns,
        warn: (t: string) => this.notice(`warning: ${t}\n`),
      };
      inst.startStreams(onBatch, startOpts); // consumers first: nothing a program sends is lost to a late reader
      inst.attach(this.kernelRequests.disabledPrograms);
      mark('attached');
      this.io.attached?.();
      if (cfg.timeoutMs > 0) timer = setTimeout(() => this.wake(), cfg.timeoutMs);
      if (stop.aborted) this.wake();
      const done = inst.start(onBatch, startOpts);
      // a gadget with only metrics maps has no source that ends: it serves until stopped
      await Promise.race([stopped, done.length ? Promise.all(done) : stopped]);
      inst.detach(); // first, so the consumers drain a closed stream
      await inst.stop();
    } finally {
      clearTimeout(timer);
      stop.removeEventListener('abort', onAbort);
      await this.finish();
    }
    if (this.failure) throw this.failure;
    return this.summary();
  }

  /** Stop every operator (flushing outputs, unless their reader went away), then close them all, whatever failed before. */
  private async finish(): Promise<void> {
    for (const i of this.instances) {
      if (this.readerGone) break;
      try {
        await i.stop?.();
      } catch (err) {
        this.fail(err);
      }
    }
    for (const i of [...this.instances].reverse()) {
      try {
        await i.close?.();
      } catch (err) {
        this.failure ??= err;
      }
    }
    const notices = { write: (t: string) => (this.notice(t), true) };
    this.lost.reportTotal(notices);
    if (this.cfg.stats) {
      // held: records of namespaces that passed the kernel's deny list because no one knew them
      // yet, and then turned out not to be selected
      this.notice(`ig-stats: received=${this.stats.received} shown=${this.stats.shown} held-dropped=${this.stats.heldDropped} late-dropped=${this.stats.lateDropped} lost=${this.lost.total}\n`);
    }
  }

  private summary(): RunSummary {
    return { received: this.stats.received, shown: this.stats.shown, lost: this.lost.total };
  }

  /** One source batch into its datasource's chain. */
  private onSource(sb: SourceBatch): void {
    const ds = this.datasource(sb.datasource);
    if (!ds) return;
    if (this.stats.received === 0 && sb.records?.offsets.length) mark('first records');
    let b: Batch;
    if (sb.records) {
      b = new Batch(sb.records.data, sb.records.offsets);
    } else if (sb.text) {
      b = this.textBatch(ds, sb.text);
    } else {
      b = Batch.ofRows(0);
    }
    this.stats.received += b.count;
    b.lost = sb.lost;
    b.snapshot = sb.snapshot;
    if (sb.warnings?.length) b.warnings = sb.warnings;
    this.lost.add(sb.lost);
    for (const w of sb.warnings ?? []) this.notice(`warning: ${w}\n`);
    ds.emit(b);
  }

  /** Text iterator records: their fields are learned now, and live beside the (absent) bytes. */
  private textBatch(ds: RunDataSource, t: NonNullable<SourceBatch['text']>): Batch {
    for (const f of annotateFields(this.spec.metadata, ds.name, t.fields)) if (!ds.field(f.name)) ds.addField(f);
    const b = Batch.ofRows(t.events.length);
    for (const f of t.fields) {
      const s = ds.field(f.name)!.source;
      if (s.type !== 'column') continue;
      const col = b.column(s.slot);
      t.events.forEach((e, i) => (col[i] = e[f.name]));
    }
    return b;
  }
}
