/**
 * The containers operator: who owns each event, and which events a selection keeps.
 *
 * Every datasource with a mount (else network) namespace id field gets the runtime.* and k8s.*
 * fields, derived from the container the record belongs to (kept in a slot beside the bytes:
 * one lookup per record, the fields' text computed once per container by the writers). A
 * selection (-c, --k8s-*) goes into the gadget's mntns filter map before its first event, kept
 * current as containers start and stop, and is applied here too.
 *
 * With gadgets built against our headers the map is a deny list (the host's namespace unless
 * --host, and every container not selected): a namespace nobody knows yet, a container that
 * just started, passes the kernel, and its records are held here until the runtimes say whose
 * it is — then shown, or dropped and its namespace denied. So a pod created after `ig run`
 * started is traced from its first event, not from the next poll of its runtime.
 */
import {
  ContainerCollection, parseSelector, matches, enrichmentFields, nodeName, mntnsOf, netnsOf, ENRICHMENT_VALUES,
  type CollectionOptions, type ContainerInfo, type ContainerSelector, type SelectionFlags,
} from '../containers/index.js';
import { mntnsFilterSupport } from '../runtime/mntns-filter.js';
import { attachesPerTarget } from '../runtime/sections.js';
import type { AttachTarget } from '../runtime/attach/targets.js';
import { Batch } from '../datasource/batch.js';
import type { RunDataSource } from '../datasource/datasource.js';
import { Priority, type DataOperator, type OperatorInstance, type RunContext } from '../datasource/operator.js';
import { splitCommaList } from '../text/comma-list.js';
import { selectionNotice } from './container-notice.js';

export interface ContainersOptions {
  selection: SelectionFlags;
  runtimes: CollectionOptions;
  /** --fields and -F: whether anything will show or read the container fields */
  fields?: string;
  filters: readonly string[];
}

/**
 * How long records of a namespace nobody knows are held while the runtimes are asked again: 3 s,
 * as a loaded node's containerd can take over a second to list a container whose process runs already.
 */
const DECIDE_ATTEMPTS = 12;
const DECIDE_INTERVAL_MS = 250;
/** Records held per unknown namespace at most; beyond, they are counted as lost. */
const HOLD_LIMIT = 65536;

interface Owner { ds: RunDataSource; field: string; by: 'mntns' | 'netns'; slot: number; pidns?: string }

/**
 * The field that says which container a record came from, and its pid namespace's field where it
 * has one (gadget/pidns.h): processes may share a mount namespace and not a pid namespace (an
 * `unshare --pid --fork`, a sandbox), and then only the pid namespace tells them apart.
 */
function ownerField(ds: RunDataSource): { field: string; by: 'mntns' | 'netns'; pidns?: string } | undefined {
  const pidns = ds.fields.find((f) => f.typeName === 'gadget_pidns_id')?.name;
  const m = ds.fields.find((f) => f.typeName === 'gadget_mntns_id');
  if (m) return { field: m.name, by: 'mntns', pidns };
  const n = ds.fields.find((f) => f.typeName === 'gadget_netns_id');
  return n ? { field: n.name, by: 'netns', pidns } : undefined;
}

/** Pids as a pid namespace sees them: what a user looking at a container knows, so shown when the run selects containers. */
const NS_PID_SHOWN = new Set(['gadget_ns_pid']);

const isEnrichment = (name: string) => /^(k8s|runtime)\./.test(name.replace(/^[+-]/, ''));

/**
 * Whether anything would show or use the container fields: not when --fields is an exact list
 * without k8s.* / runtime.* and no -F names them (then enriching every record, and asking the
 * runtimes, is work nobody sees).
 */
function wantsEnrichment(o: ContainersOptions): boolean {
  const fields = o.fields === undefined ? undefined : splitCommaList(o.fields).map((f) => f.trim());
  if (!fields || fields.some((f) => f.startsWith('+') || f.startsWith('-')) || fields.some(isEnrichment)) return true;
  return o.filters.some((f) => /(^|,)\s*(k8s|runtime)\./.test(f));
}

export function containersOperator(o: ContainersOptions): DataOperator {
  return {
    name: 'containers',
    instantiate(ctx: RunContext) {
      const sel = parseSelector(o.selection); // a bad selection fails now
      const owners: Owner[] = [];
      for (const ds of ctx.datasources) {
        const w = ownerField(ds);
        if (w) owners.push({ ds, ...w, slot: -1 });
      }
      // programs attached per container (socket filters, classifiers, uprobes) need to know the containers
      const perTarget = attachesPerTarget(ctx.spec.programs);
      if (owners.length === 0 && !sel && !perTarget) return undefined;
      if (!sel && !perTarget && !wantsEnrichment(o) && ctx.mode === 'run') return undefined;
      const node = nodeName();
      for (const owner of owners) {
        owner.slot = addEnrichment(owner.ds, node);
      }
      if (ctx.mode === 'describe') return {};
      return new ContainersRun(ctx, o, sel, owners);
    },
  };
}

/** The container fields of a datasource, first in its field list, derived from a slot holding the record's container. */
function addEnrichment(ds: RunDataSource, node: string): number {
  const from = ds.addSlot();
  let after: string | undefined;
  for (const desc of enrichmentFields(false)) {
    const get = ENRICHMENT_VALUES.get(desc.name)!;
    ds.addDerived(desc, from, (c) => get(c as ContainerInfo | undefined, node), after === undefined ? { first: true } : { after });
    after = desc.name;
  }
  return from.slot;
}

interface Held { owner: Owner; batch: Batch }

class ContainersRun implements OperatorInstance {
  private coll?: ContainerCollection;
  private mode: 'allow' | 'deny' | null = null;
  private readonly hostMntns = mntnsOf('self');
  private readonly hostMntnsNum: number;
  /** namespaces found to belong to no container: denied in the kernel from then on */
  private readonly notContainers = new Set<number>();
  private readonly held = new Map<number, Held[]>();
  /** namespaces first seen during this run and decided (its records that still arrive are counted as late-dropped) */
  private readonly decided = new Set<number>();
  /** container by namespace id, as the records carry it (a number); null = known to be none */
  private readonly byId = new Map<unknown, ContainerInfo | null>();
  /** whether the selection keeps a container's records (undefined key: the host's), decided once per container */
  private readonly kept = new Map<ContainerInfo | undefined, boolean>();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly ctx: RunContext,
    private readonly o: ContainersOptions,
    private readonly sel: ContainerSelector | null,
    private readonly owners: Owner[],
  ) {
    this.hostMntnsNum = Number(this.hostMntns ?? -1);
  }

  async preStart(): Promise<void> {
    const coll = await ContainerCollection.open({ ...this.o.runtimes, warn: (m) => this.ctx.notice(`warning: ${m}\n`) });
    this.coll = coll;
    this.tellWhatMatches(coll);
    if (coll.hasKubernetes()) {
      // with pods on the node, k8s.* shows and runtime.* hides
      for (const owner of this.owners) for (const f of enrichmentFields(true)) owner.ds.updateField(f.name, { hidden: f.hidden });
    }
    if (this.sel) {
      for (const ds of this.ctx.datasources) for (const f of ds.fields) if (f.typeName && NS_PID_SHOWN.has(f.typeName)) ds.updateField(f.name, { hidden: false });
    }
    const support = mntnsFilterSupport(this.ctx.spec);
    if (this.sel && support) this.mode = support === 'deny' ? 'deny' : this.sel.host ? null : 'allow'; // an allow list cannot let the host through
    this.ctx.kernelRequests.mntnsFilter = this.mode;
    this.ctx.setNetnsPaths(() => this.netnsPaths());
    this.unsubscribe.push(coll.onChange(() => {
      this.byId.clear();
      this.kept.clear();
      for (const owner of this.owners) owner.ds.invalidate();
    }));
    for (const owner of this.owners) {
      this.unsubscribe.push(owner.ds.subscribe(this.stage(owner), Priority.containers, 'containers'));
    }
  }

  /** Never silent: a selection nothing matches yet, or a named runtime nobody answers, is said at once. */
  private tellWhatMatches(coll: ContainerCollection): void {
    const containers = new Map<string, number>();
    for (const c of coll.list()) containers.set(c.runtime, (containers.get(c.runtime) ?? 0) + 1);
    const text = selectionNotice({
      selection: this.o.selection, probes: coll.probes, containers, matching: this.sel ? coll.select(this.sel).length : coll.list().length,
      pods: coll.hasKubernetes(), kubeconfig: coll.kubernetesConfigured(), runtimesNamed: Boolean(this.o.runtimes.runtimesNamed),
    });
    if (text) this.ctx.notice(text);
  }

  /** After load: fill the filter map, say where per-container programs attach, and follow container changes. */
  start(): void {
    if (attachesPerTarget(this.ctx.spec.programs)) {
      this.ctx.kernel.setAttachTargets(this.attachTargets());
      this.unsubscribe.push(this.coll!.onChange(() => this.ctx.kernel.setAttachTargets(this.attachTargets())));
    }
    if (!this.mode) return;
    this.sync();
    this.unsubscribe.push(this.coll!.onChange(() => this.sync()));
  }

  /** The host (without a selection, or with --host) and the selected containers (all without a selection). */
  private attachTargets(): AttachTarget[] {
    const out: AttachTarget[] = [];
    if (!this.sel || this.sel.host) out.push({ id: 'host', pid: process.pid, host: true, name: 'the host' });
    for (const c of this.coll?.select(this.sel) ?? []) {
      out.push({ id: c.id, pid: c.pid, host: false, name: `container ${c.name || c.id.slice(0, 12)}` });
    }
    return out;
  }

  private sync(): void {
    if (!this.mode || !this.coll) return;
    const k = this.ctx.kernel;
    if (this.mode === 'allow') {
      k.setMntnsFilter(this.coll.list().filter((c) => matches(c, this.sel!)).map((c) => c.mntns));
      return;
    }
    const deny = new Set([...this.notContainers].map((n) => BigInt(n)));
    if (!this.sel!.host && this.hostMntns !== undefined) deny.add(this.hostMntns);
    for (const c of this.coll.list()) if (!matches(c, this.sel!)) deny.add(c.mntns);
    k.setMntnsFilter(deny);
  }

  private lookup(owner: Owner, id: unknown, pidns?: number): ContainerInfo | undefined {
    // a pid namespace of a known container names it first (where it shares its mount namespace with others)
    if (pidns !== undefined && pidns !== 0) {
      const byPid = this.coll!.byPidns(pidns);
      if (byPid) return byPid;
    }
    let c = this.byId.get(id);
    if (c === undefined) {
      const found = owner.by === 'mntns' ? this.coll!.byMntns(BigInt(id as number | bigint)) : this.coll!.byNetns(Number(id));
      c = found ?? null;
      // a miss is kept too (most records are the host's); any change of the containers clears it
      this.byId.set(id, c);
    }
    return c ?? undefined;
  }

  /** The subscriber of one datasource: set each record's container, drop what the selection does not keep. */
  private stage(owner: Owner): (b: Batch) => void {
    const read = owner.ds.reader(owner.field);
    const readPidns = owner.pidns ? owner.ds.reader(owner.pidns) : undefined;
    const pidnsOf = (b: Batch, r: number) => (readPidns ? Number(readPidns(b, r)) : undefined);
    const sel = this.sel;
    if (!sel) {
      return (b) => {
        const col = b.column(owner.slot);
        for (let k = 0; k < b.count; k++) {
          const r = b.rows[k]!;
          col[r] = this.lookup(owner, read(b, r), pidnsOf(b, r));
        }
      };
    }
    return (b) => {
      const col = b.column(owner.slot);
      let heldRows: number[] | undefined;
      let heldIds: number[] | undefined;
      b.keep((r) => {
        const id = read(b, r);
        const c = this.lookup(owner, id, pidnsOf(b, r));
        if (!c && owner.by === 'mntns' && this.unknown(Number(id))) {
          (heldRows ??= []).push(r);
          (heldIds ??= []).push(Number(id));
          return false;
        }
        if (!this.keeps(c, sel)) {
          // of a namespace first seen during this run, on its way before the kernel learnt to deny it
          if (owner.by === 'mntns' && this.decided.has(Number(id))) this.ctx.stats.lateDropped++;
          return false;
        }
        col[r] = c;
        return true;
      });
      if (heldRows) this.hold(owner, b, heldRows, heldIds!);
    };
  }

  private keeps(c: ContainerInfo | undefined, sel: ContainerSelector): boolean {
    let k = this.kept.get(c);
    if (k === undefined) this.kept.set(c, (k = matches(c, sel)));
    return k;
  }

  /** A namespace no runtime has named yet, that is neither ours nor known to be no container's. */
  private unknown(id: number): boolean {
    return id !== this.hostMntnsNum && !this.notContainers.has(id);
  }

  /** Keep records of unknown namespaces (copies: the batch's bytes go away) until the runtimes are asked whose they are. */
  private hold(owner: Owner, b: Batch, rows: number[], ids: number[]): void {
    const byNs = new Map<number, number[]>();
    rows.forEach((r, i) => {
      const list = byNs.get(ids[i]!);
      if (list) list.push(r);
      else byNs.set(ids[i]!, [r]);
    });
    for (const [ns, nsRows] of byNs) {
      let list = this.held.get(ns);
      if (!list) {
        this.held.set(ns, (list = []));
        void this.decide(ns);
      }
      const count = list.reduce((s, h) => s + h.batch.count, 0);
      const room = Math.max(0, HOLD_LIMIT - count);
      if (nsRows.length > room) this.ctx.lost.add(nsRows.length - room);
      if (room > 0) list.push({ owner, batch: b.copyRows(nsRows.slice(0, room), owner.ds.recordSize) });
    }
  }

  private async decide(ns: number): Promise<void> {
    let c: ContainerInfo | undefined;
    for (let i = 0; i < DECIDE_ATTEMPTS && !c && this.coll; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, DECIDE_INTERVAL_MS));
      await this.coll.refresh().catch(() => undefined);
      c = this.coll.byMntns(BigInt(ns));
    }
    const held = this.held.get(ns);
    if (!held) return; // the run ended meanwhile (discarded and counted)
    this.held.delete(ns);
    this.decided.add(ns);
    if (c && matches(c, this.sel!)) {
      for (const owner of new Set(held.map((h) => h.owner))) {
        const parts = held.filter((h) => h.owner === owner).map((h) => h.batch);
        const batch = Batch.concat(parts, owner.ds.recordSize);
        batch.column(owner.slot).fill(c);
        this.ctx.emit(owner.ds, batch, Priority.containers);
      }
      return;
    }
    for (const h of held) this.ctx.stats.heldDropped += h.batch.count;
    if (!c) this.notContainers.add(ns);
    this.sync(); // deny it in the kernel from now on
  }

  /**
   * Network namespaces a socket snapshot should read: the selected containers' (and ours with
   * --host), or without a selection ours and every container's.
   */
  private netnsPaths(): string[] {
    const paths = new Map<number, string>();
    const self = netnsOf('self');
    if (self !== undefined && (!this.sel || this.sel.host)) paths.set(self, '/proc/self/ns/net');
    for (const c of this.coll?.select(this.sel) ?? []) {
      if (!paths.has(c.netns)) paths.set(c.netns, `/proc/${c.pid}/ns/net`);
    }
    return [...paths.values()];
  }

  /** At the end: records still waiting for a decision are dropped (and counted). */
  stop(): void {
    for (const list of this.held.values()) for (const h of list) this.ctx.stats.heldDropped += h.batch.count;
    this.held.clear();
  }

  async close(): Promise<void> {
    for (const u of this.unsubscribe) u();
    this.held.clear();
    await this.coll?.close();
  }
}
