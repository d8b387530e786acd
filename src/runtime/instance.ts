import type { BpfObject, ProgramInfo } from '../../native/index.js';
import { IgError } from '../errors.js';
import { buildGadgetSpec, type GadgetSpec, type DataSourceSpec, type WasmModuleBytes } from '../gadget/spec.js';
import { parseMetadata } from '../gadget/metadata.js';
import { encodeParam } from '../gadget/params.js';
import { MapType, ProgType } from '../model/kernel.js';
import { loadError, attachError } from './kernel-errors.js';
import { native } from './native.js';
import { setBootOffsetNs } from '../format/timestamp.js';
import { startSource, type RunningSource, type SourceSink, type SourceOptions } from './sources/index.js';
import { ensureTracefs, needsTracefs } from './tracefs.js';
import { DENY_FLAG, DENY_MAP_ENTRIES, FILTER_FLAG, FILTER_MAP, MntnsFilterMap, mntnsFilterSupport } from './mntns-filter.js';

export interface InstanceOptions {
  /** flag values by param key (without dashes), as the user typed them */
  params?: Record<string, string>;
  /** turn ring buffers into perf buffers, as on a kernel without ring buffers */
  forcePerfBuffer?: boolean;
  /**
   * In-kernel container filter: 'allow' = the map lists the namespaces to keep (IG's
   * semantics), 'deny' = the namespaces to drop (see gadget/mntns_filter.h); absent = none.
   */
  mntnsFilter?: 'allow' | 'deny' | null;
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
  private readonly obj: BpfObject;
  private loaded = false;
  private closed = false;
  private sources: RunningSource[] = [];
  private links: number[] = [];
  private filter?: MntnsFilterMap;
  private readonly buffers = new Map<string, 'ringbuf' | 'perf'>();

  private constructor(obj: BpfObject, spec: GadgetSpec) {
    this.obj = obj;
    this.spec = spec;
  }

  /** Parse an image's eBPF object and gadget.yaml. Touches no kernel state beyond libbpf's parsing. */
  static open(ebpf: Buffer, metadata: Buffer | null, name: string, wasm?: WasmModuleBytes): GadgetInstance {
    if (ebpf.length < 4 || !ebpf.subarray(0, 4).equals(ELF_MAGIC)) {
      throw new IgError('invalid-object', `the eBPF layer of ${name} is not an ELF object`, {
        hint: 'the image is damaged or was not built by `ig image build`; rebuild or pull it again',
      });
    }
    const n = native();
    let obj: BpfObject;
    try {
      obj = new n.BpfObject(ebpf, objectName(name));
    } catch (err) {
      throw new IgError('invalid-object', `libbpf cannot open the eBPF object of ${name}: ${(err as Error).message}`, { cause: err });
    }
    try {
      let btf;
      try {
        btf = obj.btf();
      } catch (err) {
        throw new IgError('invalid-object', `the eBPF object of ${name} has no BTF`, {
          hint: 'compile with `clang -g` and strip with `llvm-strip -g` (which keeps .BTF); `ig image build` does this',
          cause: err,
        });
      }
      const sectionBytes = (section: string) => {
        try {
          return obj.mapInitialValue(section);
        } catch {
          return undefined;
        }
      };
      const spec = buildGadgetSpec({ maps: obj.maps(), programs: obj.programs(), btf, sectionBytes }, parseMetadata(metadata), wasm);
      return new GadgetInstance(obj, spec);
    } catch (err) {
      obj.close();
      throw err;
    }
  }

  /** Set params and adapt maps before load. */
  configure(opts: InstanceOptions): void {
    const given = opts.params ?? {};
    for (const p of this.spec.params) {
      if (p.operator === 'wasm') continue; // read by the wasm module (src/wasm/)
      const text = given[p.key] ?? p.defaultValue;
      if (text === undefined) continue;
      this.obj.setMapInitialValue(p.section, p.offset, encodeParam(p, text));
    }
    for (const key of Object.keys(given)) {
      if (!this.spec.params.some((p) => p.key === key)) {
        throw new IgError('usage', `unknown param --${key}`, { hint: 'run `ig run IMAGE --help` to list the gadget params' });
      }
    }
    for (const ds of this.spec.datasources) this.adaptStreamMap(ds, !!opts.forcePerfBuffer);
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
  private adaptStreamMap(ds: DataSourceSpec, forcePerf: boolean): void {
    if (ds.source.type !== 'stream') return;
    const s = ds.source;
    let buffer = s.buffer;
    if (buffer === 'ringbuf' && forcePerf) {
      this.obj.setMapType(s.map, MapType.PERF_EVENT_ARRAY);
      this.obj.setMapMaxEntries(s.map, 0);
      buffer = 'perf';
    }
    this.buffers.set(ds.name, buffer);
    if (buffer === 'perf') {
      this.obj.setMapKeySize(s.map, 4);
      this.obj.setMapValueSize(s.map, 4);
    } else {
      this.obj.setMapKeySize(s.map, 0);
      this.obj.setMapValueSize(s.map, 0);
    }
  }

  load(): void {
    try {
      this.obj.load();
    } catch (err) {
      throw loadError(err, this.spec.programs);
    }
    this.loaded = true;
    // Timestamps are formatted with the exact clock offset, instead of the formatter measuring it
    // by polling /proc/uptime (which would also show up in trace_open's own output).
    setBootOffsetNs(native().bootToWallOffsetNs());
    if (this.hasFilterMap()) this.filter = new MntnsFilterMap(this.obj.mapFd(FILTER_MAP));
  }

  /** Attach every program that runs on its own (iterators run when read), but those `disabled`. */
  attach(disabled: ReadonlySet<string> = new Set()): void {
    if (this.spec.programs.some((p) => needsTracefs(p.section))) ensureTracefs();
    for (const p of this.spec.programs) {
      if (isReadOnDemand(p) || disabled.has(p.name)) continue;
      try {
        if (p.type === ProgType.PERF_EVENT) this.links.push(...this.obj.attachPerfEvent(p.name));
        else this.links.push(this.obj.attach(p.name, p.type === ProgType.SOCKET_FILTER ? { socketIfname: '' } : undefined));
      } catch (err) {
        throw attachError(err, p);
      }
    }
  }

  /** Make the in-kernel filter map hold exactly these mount namespaces (to keep or to drop, per its mode). */
  setMntnsFilter(ids: Iterable<bigint>): void {
    this.filter?.set(ids);
  }

  /**
   * Start every datasource. Tracers and toppers run until stop(); a snapshotter
   * emits its table and its promise resolves. `onBatch` is called with whole batches.
   */
  start(onBatch: SourceSink, opts: StartOptions): Promise<void>[] {
    if (!this.loaded) throw new IgError('internal', 'start() before load()');
    const buffer = (ds: DataSourceSpec) => this.buffers.get(ds.name) ?? (ds.source.type === 'stream' ? ds.source.buffer : 'ringbuf');
    this.sources = this.spec.datasources.map((ds) => startSource(this.obj, this.spec, ds, onBatch, { ...opts, buffer }));
    return this.sources.map((s) => s.done);
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stop().catch(() => undefined);
    this.obj.close();
  }
}

function isReadOnDemand(p: ProgramInfo): boolean {
  return p.section.startsWith('iter/') || p.section.startsWith('iter.s/');
}

/** libbpf uses the object name as a prefix of internal map names; keep it short and plain. */
function objectName(ref: string): string {
  const base = ref.split('@')[0].split('/').pop()!.split(':')[0];
  return base.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 15) || 'gadget';
}
