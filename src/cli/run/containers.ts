import type { GadgetInstance } from '../../runtime/instance.js';
import type { Event, EventBatch } from '../../gadget/datasource.js';
import type { DataSourceSpec } from '../../gadget/spec.js';
import {
  ContainerCollection, parseSelector, matches, enrich, enrichmentFields, nodeName, mntnsOf, netnsOf,
  type ContainerInfo, type ContainerSelector,
} from '../../containers/index.js';
import { collectionOptionsFromArgs } from '../container-options.js';
import { encodeValue } from '../../output/json.js';

/** The field that says which container an event came from. */
function ownerField(ds: DataSourceSpec): { name: string; by: 'mntns' | 'netns' } | undefined {
  const m = ds.fields.find((f) => f.typeName === 'gadget_mntns_id');
  if (m) return { name: m.name, by: 'mntns' };
  const n = ds.fields.find((f) => f.typeName === 'gadget_netns_id');
  return n ? { name: n.name, by: 'netns' } : undefined;
}

/**
 * Whether anything would show or use the container fields: not when --fields is an exact
 * list without k8s.* / runtime.* and no -F names them (then enriching every event, and
 * asking the runtimes, is work nobody sees).
 */
function wantsEnrichment(args: Record<string, unknown>): boolean {
  const isEnrichment = (name: string) => /^(k8s|runtime)\./.test(name.replace(/^[+-]/, ''));
  const fields = args.fields === undefined ? undefined : String(args.fields).split(',').map((f) => f.trim());
  if (!fields || fields.some((f) => f.startsWith('+') || f.startsWith('-')) || fields.some(isEnrichment)) return true;
  const filters = (args.filter as string[] | undefined) ?? [];
  return filters.some((f) => /(^|,)\s*(k8s|runtime)\./.test(f));
}

/** How long events of a namespace nobody knows are held while the runtimes are asked again. */
const DECIDE_ATTEMPTS = 4;
const DECIDE_INTERVAL_MS = 250;
/** Events held per unknown namespace at most; beyond, they are counted as lost. */
const HOLD_LIMIT = 65536;

interface Held { datasource: string; events: Event[] }

/**
 * Containers in `ig run`: every event with a mount (else network) namespace id
 * gains the runtime.* and k8s.* fields; a selection (-c, --k8s-*) goes into the
 * gadget's mntns filter map before its first event, kept current as containers
 * start and stop, and is applied in userspace too.
 *
 * With gadgets built against our headers the map is a deny list (the host's
 * namespace unless --host, and every container not selected): a namespace no one
 * knows yet, a container that just started, passes the kernel, and its events are
 * held here until the runtimes say whose it is — then shown, or dropped and its
 * namespace denied. So a pod created after `ig run` started is traced from its
 * first event, not from the next poll of its runtime.
 */
export class ContainerStage {
  private readonly unsubscribe: (() => void)[] = [];
  private mode: 'allow' | 'deny' | null = null;
  private inst?: GadgetInstance;
  private readonly hostMntns = mntnsOf('self');
  /** namespaces found to belong to no container: denied in the kernel from then on */
  private readonly notContainers = new Set<bigint>();
  private readonly held = new Map<bigint, Held[]>();
  /** events of unknown namespaces that turned out not to be selected (IG_STATS) */
  dropped = 0;
  /** where released events go (set by the session) */
  release: (b: EventBatch) => void = () => {};
  /** where overflowed held events are counted */
  lost: (n: number) => void = () => {};

  private constructor(
    private readonly coll: ContainerCollection,
    private readonly sel: ContainerSelector | null,
    private readonly owners: Map<string, { name: string; by: 'mntns' | 'netns' }>,
    private readonly node: string,
  ) {}

  static async open(inst: GadgetInstance, args: Record<string, unknown>): Promise<ContainerStage | null> {
    const sel = parseSelector(args);
    const owners = new Map<string, { name: string; by: 'mntns' | 'netns' }>();
    for (const ds of inst.spec.datasources) {
      const o = ownerField(ds);
      if (o) owners.set(ds.name, o);
    }
    if (owners.size === 0 && !sel) return null;
    if (!sel && !wantsEnrichment(args)) return null;
    const coll = await ContainerCollection.open(collectionOptionsFromArgs(args));
    const stage = new ContainerStage(coll, sel, owners, nodeName());
    const extra = enrichmentFields(coll.hasKubernetes());
    for (const ds of inst.spec.datasources) if (owners.has(ds.name)) ds.fields = [...extra, ...ds.fields];
    return stage;
  }

  /** How the selection goes into the kernel: a deny list where the gadget allows it, else IG's allow list. */
  kernelFilter(inst: GadgetInstance): 'allow' | 'deny' | null {
    if (!this.sel || !inst.hasFilterMap()) return null;
    if (inst.canDenyMntns()) return 'deny';
    return this.sel.host ? null : 'allow'; // an allow list cannot let the host through
  }

  /** After load: fill the filter map and follow container changes. */
  start(inst: GadgetInstance): void {
    this.mode = this.kernelFilter(inst);
    if (!this.mode) return;
    this.inst = inst;
    this.sync();
    this.unsubscribe.push(this.coll.onChange(() => this.sync()));
  }

  private sync(): void {
    if (!this.inst || !this.mode) return;
    if (this.mode === 'allow') {
      this.inst.setMntnsFilter(this.coll.list().filter((c) => matches(c, this.sel!)).map((c) => c.mntns));
      return;
    }
    const deny = new Set(this.notContainers);
    if (!this.sel!.host && this.hostMntns !== undefined) deny.add(this.hostMntns);
    for (const c of this.coll.list()) if (!matches(c, this.sel!)) deny.add(c.mntns);
    this.inst.setMntnsFilter(deny);
  }

  apply(b: EventBatch): EventBatch {
    const owner = this.owners.get(b.datasource);
    if (!owner) return b;
    const events: Event[] = [];
    for (const e of b.events) {
      const id = e[owner.name];
      if (owner.by === 'mntns' && id !== undefined) {
        const mnt = BigInt(id as number | bigint);
        const c = this.coll.byMntns(mnt);
        if (!c && this.sel && mnt !== this.hostMntns && !this.notContainers.has(mnt)) {
          this.hold(mnt, b.datasource, e);
          continue;
        }
        if (this.sel && !matches(c, this.sel)) continue;
        enrich(e, c, this.node);
      } else {
        const c = id === undefined ? undefined : this.coll.byNetns(Number(id));
        if (this.sel && !matches(c, this.sel)) continue;
        enrich(e, c, this.node);
      }
      events.push(e);
    }
    return events.length === b.events.length ? b : { ...b, events };
  }

  /** Whether events must go through apply(): a selection holds and drops them, not only enriches. */
  get selects(): boolean {
    return this.sel !== null;
  }

  /**
   * For `-o json` straight from records (direct.ts), without a selection: the container fields
   * `names` (in this order) depend on the owner id alone, so they are encoded once per container.
   * Undefined when the datasource has no owner field or a name is not a container field.
   */
  encodedEnrichment(ds: DataSourceSpec, names: readonly string[]): { owner: string; valuesOf: (id: unknown) => Buffer[] } | undefined {
    const owner = this.owners.get(ds.name);
    const known = new Set(enrichmentFields(false).map((f) => f.name));
    if (this.sel || !owner || !names.every((n) => known.has(n))) return undefined;
    const encode = (c: ContainerInfo | undefined) => {
      const e: Event = {};
      enrich(e, c, this.node);
      return names.map((n) => Buffer.from(encodeValue(e[n])));
    };
    const none = encode(undefined);
    const byId = new Map<unknown, Buffer[]>(); // while no container changes
    this.unsubscribe.push(this.coll.onChange(() => byId.clear()));
    return {
      owner: owner.name,
      valuesOf: (id) => {
        let v = byId.get(id);
        if (v) return v;
        const c = owner.by === 'mntns' ? this.coll.byMntns(BigInt(id as number | bigint)) : this.coll.byNetns(Number(id));
        if (!c) return none; // not cached: a container found later must show from then on
        v = encode(c);
        byId.set(id, v);
        return v;
      },
    };
  }

  /** Keep an event of an unknown namespace until the runtimes are asked whose it is. */
  private hold(mnt: bigint, datasource: string, e: Event): void {
    let list = this.held.get(mnt);
    if (!list) {
      this.held.set(mnt, (list = []));
      void this.decide(mnt);
    }
    const last = list[list.length - 1];
    if (last?.datasource === datasource) {
      if (last.events.length >= HOLD_LIMIT) return this.lost(1);
      last.events.push(e);
    } else {
      list.push({ datasource, events: [e] });
    }
  }

  private async decide(mnt: bigint): Promise<void> {
    let c: ContainerInfo | undefined;
    for (let i = 0; i < DECIDE_ATTEMPTS && !c; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, DECIDE_INTERVAL_MS));
      await this.coll.refresh().catch(() => undefined);
      c = this.coll.byMntns(mnt);
    }
    const held = this.held.get(mnt) ?? [];
    this.held.delete(mnt);
    if (c && matches(c, this.sel!)) {
      for (const h of held) {
        for (const e of h.events) enrich(e, c, this.node);
        this.release({ datasource: h.datasource, events: h.events });
      }
      return;
    }
    for (const h of held) this.dropped += h.events.length;
    if (!c) this.notContainers.add(mnt);
    this.sync(); // deny it in the kernel from now on
  }

  /**
   * Network namespaces a socket snapshot should read: the selected containers'
   * (and ours with --host), or without a selection ours and every container's.
   */
  netnsPaths(): string[] {
    const paths = new Map<number, string>();
    const self = netnsOf('self');
    if (self !== undefined && (!this.sel || this.sel.host)) paths.set(self, '/proc/self/ns/net');
    for (const c of this.sel ? this.coll.list().filter((x) => matches(x, this.sel!)) : this.coll.list()) {
      if (!paths.has(c.netns)) paths.set(c.netns, `/proc/${c.pid}/ns/net`);
    }
    return [...paths.values()];
  }

  /** At the end: events still waiting for a decision are dropped (and counted). */
  discardHeld(): void {
    for (const list of this.held.values()) for (const h of list) this.dropped += h.events.length;
    this.held.clear();
  }

  async close(): Promise<void> {
    for (const u of this.unsubscribe) u();
    await this.coll.close();
  }
}
