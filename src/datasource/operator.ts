/**
 * Operators, as Inspektor Gadget's pkg/operators has them: each is asked, once per run, whether
 * it takes part (`instantiate`); the ones that do add fields, subscribe to datasources at their
 * priority, and then live through the run's phases. The engine calls, in order:
 *
 *   instantiate  check flags, add fields, subscribe (nothing is loaded yet; also run for --help)
 *   preStart     before the gadget is loaded: open what the run needs (container runtimes, servers),
 *                say what the kernel side needs (the mntns filter mode, params)
 *   start        after load, before attach: the gadget's maps exist (fill filter maps)
 *   stop         the sources have stopped: flush what is held
 *   close        always, last, on every path: release everything
 *
 * Operators see the run through RunContext, never the CLI's flags: each is built by the engine
 * from the typed RunConfig.
 */
import type { GadgetSpec } from '../gadget/spec.js';
import type { LostCounter } from './lost.js';
import type { RunDataSource } from './datasource.js';
import type { Batch } from './batch.js';
import type { AttachTarget } from '../runtime/attach/targets.js';

/** Where an operator's subscription sits in each datasource's chain (lower runs first). */
export const Priority = {
  /**
   * container selection and enrichment: first, so nothing else works on records that will be
   * dropped; -1 as IG's localmanager, so a wasm guest subscribing at 0 (as IG's do) runs after it
   * and also sees records the containers operator held and re-emitted past itself
   */
  containers: -1,
  /** gadgets' own userspace logic (wasm modules) by default; a guest picks its own priority (IG's gadgets use 0) */
  gadget: 1000,
  filter: 9000,
  sort: 9100,
  limit: 9200,
  metrics: 9500,
  /** outputs: last */
  output: 10000,
} as const;

/** What the kernel side of a run should do, as operators ask before load. */
export interface KernelRequests {
  /** params to set, by key, unless the user set them (e.g. a -F pid==42 pushed into the kernel) */
  params: Map<string, string>;
  /**
   * The container filter: 'allow' = the map lists the mount namespaces to keep (IG's semantics),
   * 'deny' = those to drop (our headers); null = none.
   */
  mntnsFilter: 'allow' | 'deny' | null;
  /** programs loaded but not attached (IG's `programs.<name>.attach_to: gadget_program_disabled`, set by wasm guests) */
  disabledPrograms: Set<string>;
}

/** The loaded gadget, as operators may touch it (after load). */
export interface KernelAccess {
  /** a loaded map's fd (metrics readers) */
  mapFd(name: string): number;
  /** whether the gadget has the mntns filter map (else selection happens in userspace only) */
  hasFilterMap(): boolean;
  /** whether its filter can run as a deny list (built against our headers) */
  canDenyMntns(): boolean;
  /** make the filter map hold exactly these mount namespaces */
  setMntnsFilter(ids: Iterable<bigint>): void;
  /**
   * Where per-container programs attach (socket filters, IG's classifiers, uprobes): the host
   * and/or containers, kept current by whoever selects containers. Default: the host alone.
   */
  setAttachTargets(targets: AttachTarget[]): void;
}

export interface RunContext {
  /** 'describe': instantiate only, to list fields and params (`--help`, `image inspect`) */
  readonly mode: 'run' | 'describe';
  /** the gadget as built from its image; read-only */
  readonly spec: GadgetSpec;
  readonly datasources: readonly RunDataSource[];
  datasource(name: string): RunDataSource | undefined;
  /** a datasource of the operator's own (its packets live in added fields) */
  addDataSource(name: string, kind: RunDataSource['kind']): RunDataSource;
  /**
   * Send a batch through a datasource's chain from outside a source's callback (records an
   * operator held, or its own packets), past priority `after`; a failure stops the run.
   */
  emit(ds: RunDataSource, b: Batch, after?: number): void;
  /** a line for the user (stderr on the CLI, a notice message on the daemon's stream) */
  notice(text: string): void;
  readonly lost: LostCounter;
  /** before load */
  readonly kernelRequests: KernelRequests;
  /** after load; throws before */
  readonly kernel: KernelAccess;
  /** snapshotters: the network namespaces socket iterators should read (an operator that selects containers sets it) */
  setNetnsPaths(paths: () => string[]): void;
  /**
   * The output cannot keep up (a daemon's client reading slowly): true stops reading the kernel's
   * buffers, which then fill and count what they drop, until false; absent without a kernel.
   */
  pauseStreams?(on: boolean): void;
  /** counts for IG_STATS */
  readonly stats: { received: number; shown: number; heldDropped: number; lateDropped: number };
}

export interface OperatorInstance {
  preStart?(): void | Promise<void>;
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
  close?(): void | Promise<void>;
}

export interface DataOperator {
  readonly name: string;
  /** Take part in this run (subscribe, add fields) or return undefined. Throws IgError on bad flags. */
  instantiate(ctx: RunContext): OperatorInstance | undefined;
}
