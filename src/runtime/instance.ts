import type { BpfObject } from '../../native/index.js';
import { IgError } from '../errors.js';
import { buildGadgetSpec, operatorOnlySpec, type GadgetSpec, type DataSourceSpec, type WasmModuleBytes } from '../gadget/spec.js';
import type { GadgetMetadata } from '../gadget/metadata.js';
import { encodeParam } from '../gadget/params.js';
import { MapType } from '../model/kernel.js';
import { loadError, attachError } from './kernel-errors.js';
import { native } from './native.js';
import { coreBtfFor } from './core-btf-cache.js';
import { keepKernelFeatures, presetKernelFeatures } from './kernel-features-cache.js';
import { setBootOffsetNs } from '../format/timestamp.js';
import { startSource, type RunningSource, type SourceSink, type SourceOptions } from './sources/index.js';
import { ensureTracefs, needsTracefs, tracepointExists } from './tracefs.js';
import { DENY_FLAG, DENY_MAP_ENTRIES, FILTER_FLAG, FILTER_MAP, MntnsFilterMap, mntnsFilterSupport } from './mntns-filter.js';
import { sectionInfo, DISABLED_TARGET, type AttachPlan } from './sections.js';
import { applyMapSizing } from './map-sizing.js';
import { runtimeParams, ifaceList } from './runtime-params.js';
import { TargetAttacher, HOST_TARGET, type AttachTarget } from './attach/targets.js';
import { attachNetwork } from './attach/network.js';
import { fieldsOnlyWrittenBy } from './degrade.js';
import { ensureBpffs } from './bpffs.js';
import { applyPacketFilters } from './packet-filter/index.js';
import { SocketEnricher, SOCKETS_MAP, socketEnricherBtf, usesSocketEnricher } from './socket-enricher/index.js';
import type { Attachment } from '../../native/index.js';

export interface InstanceOptions {
  /** flag values by param key (without dashes), as the user typed them */
  params?: Record<string, string>;
  /** turn ring buffers into perf buffers, as on a kernel without ring buffers */
  forcePerfBuffer?: boolean;
  /** kernel buffer bytes for each stream (default: bufferBytesFor(ncpu)) */
  bufferBytes?: number;
  /**
   * In-kernel container filter: 'allow' = the map lists the namespaces to keep (IG's
   * semantics), 'deny' = the namespaces to drop (see gadget/mntns_filter.h); absent = none.
   */
  mntnsFilter?: 'allow' | 'deny' | null;
  /** leave out programs the kernel cannot load or attach for lack of a feature, with a warning */
  skipUnsupportedPrograms?: boolean;
  /** problems that do not stop the run */
  warn?: (text: string) => void;
}

export type StartOptions = Omit<SourceOptions, 'buffer'>;

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const PERF_FLAG = 'gadget_buffer_use_perf';

/**
 * One gadget in the kernel: the live side of a GadgetSpec (as cilium/ebpf's Collection is of
 * its CollectionSpec). Created from the image's bytes, configured, loaded and attached, then its
 * sources run until stopped. The spec stays as it was built; what a run changes (a ring buffer
 * turned into a perf buffer, map sizes) is kept here. close() releases every kernel object on
 * every path.
 */
export class GadgetInstance {
  readonly spec: GadgetSpec;
  private loaded = false;
  private closed = false;
  private sources: RunningSource[] = [];
  private streamsStarted = false;
  private links: number[] = [];
  private filter?: MntnsFilterMap;
  private readonly buffers = new Map<string, { kind: 'ringbuf' | 'perf'; perfPagesPerCpu: number }>();
  private readonly plans = new Map<string, AttachPlan>();
  private options: InstanceOptions = {};
  /** programs left out (--skip-unsupported-programs): name → why */
  private readonly skipped = new Map<string, string>();
  private attachments: Attachment[] = [];
  private perTarget?: TargetAttacher;
  /** IG's classifiers on --iface */
  private onIface?: TargetAttacher;
  private targets: AttachTarget[] = [HOST_TARGET];
  private enricher?: SocketEnricher;

  private constructor(
    private obj: BpfObject,
    spec: GadgetSpec,
    private readonly reopen: () => BpfObject,
  ) {
    this.spec = spec;
    for (const p of spec.programs) {
      const target = spec.metadata?.programs?.[p.name]?.attach_to;
      this.plans.set(p.name, target === DISABLED_TARGET ? { kind: 'disabled' } : sectionInfo(p).plan);
    }
  }

  /**
   * An operator-only gadget (gadget.yaml alone): nothing to load or attach; the operators
   * gadget.yaml names make its datasources. The object is a stand-in with no map or program.
   */
  static operatorOnly(metadata: GadgetMetadata | null, known: Parameters<typeof operatorOnlySpec>[1]): GadgetInstance {
    const none = (): never => {
      throw new IgError('internal', 'an operator-only gadget has no eBPF object');
    };
    const empty = {
      maps: () => [], programs: () => [], load: () => undefined, close: () => undefined,
      mapFd: none, mapInitialValue: none, programFd: none,
    } as unknown as BpfObject;
    return new GadgetInstance(empty, operatorOnlySpec(metadata, known), () => empty);
  }

  /** Parse an image's eBPF object (with its parsed gadget.yaml). Touches no kernel state beyond libbpf's parsing. */
  static open(ebpf: Buffer, metadata: GadgetMetadata | null, name: string, wasm?: WasmModuleBytes): GadgetInstance {
    if (ebpf.length < 4 || !ebpf.subarray(0, 4).equals(ELF_MAGIC)) {
      throw new IgError('invalid-object', `the eBPF layer of ${name} is not an ELF object`, {
        hint: 'the image is damaged or was not built by `ig image build`; rebuild or pull it again',
      });
    }
    const n = native();
    // The small BTF the object's CO-RE relocations need on this kernel, when it can have one. A
    // socket-enricher gadget's target is the kernel's BTF plus the enricher's struct: guessed from
    // the map's name among the object's strings (its symbol and BTF names), so the choice is made
    // once; the spec below confirms it, and a wrong guess is chosen again.
    let btfPath = ebpf.includes(`${SOCKETS_MAP}\0`) ? socketEnricherBtf() : undefined;
    let core = coreBtfFor(ebpf, btfPath);
    const openObj = (btfCustomPath?: string) => {
      try {
        const opts = core.btf ? { btfCustom: core.btf, attachBtfIds: core.attachBtfIds } : btfCustomPath ? { btfCustomPath } : undefined;
        return new n.BpfObject(ebpf, objectName(name), opts);
      } catch (err) {
        throw new IgError('invalid-object', `libbpf cannot open the eBPF object of ${name}: ${(err as Error).message}`, { cause: err });
      }
    };
    let obj = openObj(btfPath);
    try {
      let btf;
      try {
        // what the spec reads starts at globals and functions: the kernel types only CO-RE names stay in C++
        btf = obj.btf(true);
      } catch (err) {
        throw new IgError('invalid-object', `the eBPF object of ${name} has no BTF`, {
          hint: 'compile with `clang -g` and strip with `llvm-strip -g` (which keeps .BTF); `ig image build` does this',
          cause: err,
        });
      }
      const o = obj;
      const sectionBytes = (section: string) => {
        try {
          return o.mapInitialValue(section);
        } catch {
          return undefined;
        }
      };
      const programs = obj.programs();
      const spec = buildGadgetSpec({ maps: obj.maps(), programs, btf, sectionBytes, runtimeParams: runtimeParams(programs, btf) }, metadata, wasm);
      // The socket enricher's value struct must be a CO-RE target: libbpf reads targets at open.
      const wanted = usesSocketEnricher(spec) ? socketEnricherBtf() : undefined;
      if (wanted !== btfPath) {
        btfPath = wanted;
        core = coreBtfFor(ebpf, btfPath);
        obj.close();
        obj = openObj(btfPath);
      }
      return new GadgetInstance(obj, spec, () => openObj(btfPath));
    } catch (err) {
      obj.close();
      throw err;
    }
  }

  /** Set params and adapt maps before load. */
  configure(opts: InstanceOptions): void {
    const given = opts.params ?? {};
    for (const key of Object.keys(given)) {
      if (!this.spec.params.some((p) => p.key === key)) {
        throw new IgError('usage', `unknown param --${key}`, { hint: 'run `ig run IMAGE --help` to list the gadget params' });
      }
    }
    this.options = opts;
    this.applyConfig();
  }

  private param(key: string): string | undefined {
    return this.options.params?.[key] ?? this.spec.params.find((p) => p.key === key)?.defaultValue;
  }

  /** Everything configure() asks of the object, again on a reopened one (--skip-unsupported-programs). */
  private applyConfig(): void {
    const opts = this.options;
    const given = opts.params ?? {};
    for (const p of this.spec.params) {
      if (p.runtime || p.operator === 'wasm') continue; // runtime params attach; wasm params are the module's (src/wasm/)
      const text = given[p.key] ?? p.defaultValue;
      // an empty number means "not given" (IG's trace_signal: --signal "")
      if (text === undefined || (text === '' && p.kind !== 'string' && p.kind !== 'bool')) continue;
      this.obj.setMapInitialValue(p.section, p.offset, encodeParam(p, text));
    }
    for (const p of this.spec.programs) {
      const fix = sectionInfo(p).fixType;
      if (fix) this.obj.setProgramType(p.name, fix.type, fix.expectedAttachType);
      if (this.skipped.has(p.name)) this.obj.setProgramAutoload(p.name, false);
    }
    const classifiers = this.spec.programs.filter((p) => sectionInfo(p).plan.kind === 'classifier' && !this.skipped.has(p.name));
    applyPacketFilters(this.obj, classifiers.map((p) => p.name), this.spec.btf.types, (k) => this.param(k));
    applyMapSizing(this.obj, this.spec);
    // the map holds the enricher's values (IG: the value size of its enricher's struct)
    if (usesSocketEnricher(this.spec)) this.obj.setMapValueSize(SOCKETS_MAP, SocketEnricher.valueSize);
    const bytes = opts.bufferBytes ?? defaultBufferBytes(native().numPossibleCpus());
    for (const ds of this.spec.datasources) this.adaptStreamMap(ds, !!opts.forcePerfBuffer, bytes);
    if (opts.forcePerfBuffer) this.setFlag(PERF_FLAG, 1);
    if (opts.mntnsFilter && this.hasFilterMap()) {
      this.setFlag(FILTER_FLAG, 1);
      if (opts.mntnsFilter === 'deny') {
        this.setFlag(DENY_FLAG, 1);
        this.obj.setMapMaxEntries(FILTER_MAP, DENY_MAP_ENTRIES);
      }
    }
  }

  /** Whether the gadget can filter containers in the kernel (else the runtime filters in userspace). */
  hasFilterMap(): boolean {
    return mntnsFilterSupport(this.spec) !== null;
  }

  /** Whether the gadget's filter can run as a deny list (built against our headers). */
  canDenyMntns(): boolean {
    return mntnsFilterSupport(this.spec) === 'deny';
  }

  private setFlag(variable: string, value: number): void {
    const v = this.spec.btf.findVariable(variable);
    if (!v || v.offset < 0) return;
    const b = Buffer.alloc(v.size);
    b.writeUIntLE(value, 0, Math.min(v.size, 6));
    this.obj.setMapInitialValue(v.section, v.offset, b);
  }

  /**
   * The kernel refuses ring and perf buffers declared with a value type, so the
   * BTF type was read from the map (by buildGadgetSpec) and the sizes are fixed here.
   */
  private adaptStreamMap(ds: DataSourceSpec, forcePerf: boolean, bytes: number): void {
    if (ds.source.type !== 'stream') return;
    const s = ds.source;
    let buffer = s.buffer;
    if (buffer === 'ringbuf' && forcePerf) {
      this.obj.setMapType(s.map, MapType.PERF_EVENT_ARRAY);
      this.obj.setMapMaxEntries(s.map, 0);
      buffer = 'perf';
    }
    // the buffer's size: what the run asks, never less than the gadget declared (a power of two)
    const declared = this.spec.maps.find((m) => m.name === s.map)?.maxEntries ?? 0;
    const ring = pow2AtLeast(Math.max(bytes, buffer === 'ringbuf' ? declared : 0));
    const ncpu = native().numPossibleCpus();
    this.buffers.set(ds.name, { kind: buffer, perfPagesPerCpu: pow2AtLeast(Math.max(8, Math.floor(bytes / ncpu / 4096))) });
    if (buffer === 'ringbuf') this.obj.setMapMaxEntries(s.map, ring);
    if (buffer === 'perf') {
      this.obj.setMapKeySize(s.map, 4);
      this.obj.setMapValueSize(s.map, 4);
    } else {
      this.obj.setMapKeySize(s.map, 0);
      this.obj.setMapValueSize(s.map, 0);
    }
  }

  load(): void {
    if (this.spec.maps.some((m) => m.pinPath)) ensureBpffs();
    presetKernelFeatures();
    for (;;) {
      try {
        this.obj.load();
        keepKernelFeatures();
        break;
      } catch (err) {
        const e = loadError(err, this.spec.programs);
        const prog = this.options.skipUnsupportedPrograms ? e.program : undefined;
        if (!prog || e.code !== 'unsupported' || this.skipped.has(prog)) throw e;
        // libbpf cannot load an object twice: open it again, without that program
        this.skip(prog, e.message);
        this.obj.close();
        this.obj = this.reopen();
        this.applyConfig();
      }
    }
    this.loaded = true;
    // Timestamps are formatted with the exact clock offset, instead of the formatter measuring it
    // by polling /proc/uptime (which would also show up in trace_open's own output).
    setBootOffsetNs(native().bootToWallOffsetNs());
    if (this.hasFilterMap()) this.filter = new MntnsFilterMap(this.obj.mapFd(FILTER_MAP));
    if (usesSocketEnricher(this.spec)) this.enricher = SocketEnricher.start(this.obj.mapFd(SOCKETS_MAP), (t) => this.warn(t));
  }

  private warn(text: string): void {
    this.options.warn?.(text);
  }

  /** Leave a program out and say which fields stay empty because of it. */
  private skip(prog: string, why: string): void {
    this.skipped.set(prog, why);
    let fields: string[] = [];
    try {
      fields = fieldsOnlyWrittenBy(this.obj, this.spec, prog);
    } catch {
      // the instructions could not be read: name no fields rather than guess
    }
    this.warn(`program ${prog} left out (--skip-unsupported-programs): ${why.split('\n')[0]}; ` +
      (fields.length ? `fields that will stay empty: ${fields.join(', ')}` : 'no record field depends on it alone'));
  }

  /** Attach every program that runs on its own (iterators run when read), but those `disabled`. */
  attach(disabled: ReadonlySet<string> = new Set()): void {
    if (this.spec.programs.some((p) => needsTracefs(p.section))) ensureTracefs();
    const perTarget: { prog: string; plan: AttachPlan }[] = [];
    const ifaces = ifaceList(this.param('iface'));
    for (const p of this.spec.programs) {
      const plan = this.plans.get(p.name)!;
      if (this.skipped.has(p.name) || disabled.has(p.name) || plan.kind === 'iter' || plan.kind === 'disabled') continue;
      try {
        switch (plan.kind) {
          case 'auto':
            // A tracepoint program that does nothing on this kernel (the kernel ignores what it
            // returns) is not attached: trace_open's enter programs where the exit reads the
            // arguments. An attached syscall tracepoint costs every traced syscall a perf trace
            // buffer fill (bench/README.md, "The tight loop, round two").
            if (tracepointExists(p.section) && this.obj.programDoesNothing(p.name)) break;
            this.links.push(this.obj.attach(p.name));
            break;
          case 'perf-event': {
            const freq = Number(this.spec.metadata?.programs?.[plan.name]?.sampler?.frequency ?? 0);
            this.links.push(...this.obj.attachPerfEvent(p.name, freq > 0 ? { frequency: freq } : undefined));
            break;
          }
          case 'socket': case 'classifier': case 'uprobe':
            perTarget.push({ prog: p.name, plan });
            break;
          default:
            this.attachments.push(...attachNetwork(this.obj.programFd(p.name), p.name, p.section, plan, { ifaces, cgroup: this.param('cgroup') }));
        }
      } catch (err) {
        const e = err instanceof IgError ? err : attachError(err, p);
        if (!this.options.skipUnsupportedPrograms || e.code !== 'unsupported') throw e;
        this.skip(p.name, e.message);
      }
    }
    // As IG: with --iface, classifiers attach to those interfaces of the host only, whatever the containers
    const onIface = ifaces.length ? perTarget.filter((p) => p.plan.kind === 'classifier') : [];
    if (onIface.length) {
      this.onIface = new TargetAttacher(this.obj, onIface, ifaces, (t) => this.warn(t));
      this.onIface.set([HOST_TARGET]);
    }
    const rest = perTarget.filter((p) => !onIface.includes(p));
    if (rest.length) {
      this.perTarget = new TargetAttacher(this.obj, rest, [], (t) => this.warn(t));
      this.perTarget.set(this.targets);
    }
    for (const a of [this.onIface, this.perTarget]) {
      for (const [prog, n] of a?.counts() ?? []) {
        if (n === 0) this.warn(`program ${prog} is attached nowhere yet${this.plans.get(prog)!.kind === 'classifier' ? ' (give --iface, or select containers that have interfaces)' : ''}`);
      }
    }
  }

  /** The host and containers per-target programs attach to (the containers operator keeps it current). */
  setAttachTargets(targets: AttachTarget[]): void {
    this.targets = targets;
    this.perTarget?.set(targets);
  }

  /** Make the in-kernel filter map hold exactly these mount namespaces (to keep or to drop, per its mode). */
  setMntnsFilter(ids: Iterable<bigint>): void {
    this.filter?.set(ids);
  }

  /**
   * Start every datasource, in two steps around attach(). `startStreams` opens the ring and perf
   * buffer consumers before any program runs: a perf buffer's per-CPU slots are put in its map
   * by the consumer, and bpf_perf_event_output on an empty slot fails, so a record sent between
   * attach and a late consumer would be counted lost though nobody stalled. `start` then starts
   * the rest once programs are attached: toppers' fetches, and snapshotters' reads (an iterator
   * read at once would miss what attached programs collect). Tracers and toppers run until
   * stop(); a snapshotter emits its table and its promise resolves. `onBatch` gets whole batches.
   */
  startStreams(onBatch: SourceSink, opts: StartOptions): void {
    if (!this.loaded) throw new IgError('internal', 'startStreams() before load()');
    for (const ds of this.spec.datasources) if (ds.source.type === 'stream') this.sources.push(this.startOne(ds, onBatch, opts));
    this.streamsStarted = true;
  }

  start(onBatch: SourceSink, opts: StartOptions): Promise<void>[] {
    if (!this.loaded) throw new IgError('internal', 'start() before load()');
    if (!this.streamsStarted) this.startStreams(onBatch, opts);
    for (const ds of this.spec.datasources) if (ds.source.type !== 'stream') this.sources.push(this.startOne(ds, onBatch, opts));
    return this.sources.map((s) => s.done);
  }

  private startOne(ds: DataSourceSpec, onBatch: SourceSink, opts: StartOptions): RunningSource {
    const buffer = (d: DataSourceSpec) => this.buffers.get(d.name) ?? { kind: d.source.type === 'stream' ? d.source.buffer : 'ringbuf', perfPagesPerCpu: 64 };
    return startSource(this.obj, this.spec, ds, onBatch, { ...opts, buffer });
  }

  /** Tracers stop (true) or go on (false) reading their buffers: an output that cannot keep up (a daemon's slow client). */
  pauseStreams(on: boolean): void {
    for (const s of this.sources) s.pause?.(on);
  }

  async stop(): Promise<void> {
    const s = this.sources;
    this.sources = [];
    await Promise.all(s.map((x) => x.stop()));
  }

  /** A loaded map's fd, for readers outside the runtime (metrics). */
  mapFd(name: string): number {
    return this.obj.mapFd(name);
  }

  /**
   * Stop every program from running (links, per-target and per-interface attachments), keeping
   * maps and buffers: called before stop() so the consumers drain what was sent and nothing
   * sent after the end is counted lost (in perf mode a closed reader's empty slots make the
   * kernel's output fail, and the gadget counts that as a loss).
   */
  detach(): void {
    for (const l of this.links) {
      try {
        this.obj.detach(l);
      } catch (err) {
        this.warn(`detaching: ${(err as Error).message}`);
      }
    }
    this.links = [];
    this.perTarget?.close();
    this.perTarget = undefined;
    this.onIface?.close();
    this.onIface = undefined;
    for (const a of this.attachments) {
      try {
        a.detach();
      } catch (err) {
        this.warn(`detaching: ${(err as Error).message}`);
      }
    }
    this.attachments = [];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.loaded) this.detach();
    await this.stop().catch(() => undefined);
    this.enricher?.close();
    this.obj.close();
  }
}

/** libbpf uses the object name as a prefix of internal map names; keep it short and plain. */
function objectName(ref: string): string {
  const base = ref.split('@')[0].split('/').pop()!.split(':')[0];
  return base.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 15) || 'gadget';
}

/**
 * The kernel buffer a tracer gets unless told: 1 MiB per CPU (at least 1 MiB, at most 64 MiB).
 * Enough for a consumer descheduled for tens of milliseconds at a few hundred thousand
 * trace_open-sized records per second; the gadget's own declared size when larger.
 */
function defaultBufferBytes(ncpu: number): number {
  return pow2AtLeast(Math.min(64, Math.max(1, ncpu)) * 1024 * 1024);
}

function pow2AtLeast(n: number): number {
  let p = 4096;
  while (p < n) p *= 2;
  return p;
}
