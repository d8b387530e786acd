import { statSync } from 'node:fs';
import type { GadgetInstance } from '../../runtime/instance.js';
import type { EventBatch } from '../../gadget/datasource.js';
import type { DataSourceSpec } from '../../gadget/spec.js';
import {
  ContainerCollection, parseSelector, matches, enrich, enrichmentFields, nodeName,
  type ContainerInfo, type ContainerSelector,
} from '../../containers/index.js';
import { collectionOptionsFromArgs } from '../container-options.js';

/** The field that says which container an event came from. */
function ownerField(ds: DataSourceSpec): { name: string; by: 'mntns' | 'netns' } | undefined {
  const m = ds.fields.find((f) => f.typeName === 'gadget_mntns_id');
  if (m) return { name: m.name, by: 'mntns' };
  const n = ds.fields.find((f) => f.typeName === 'gadget_netns_id');
  return n ? { name: n.name, by: 'netns' } : undefined;
}

/**
 * Containers in `ig run`: every event with a mount (else network) namespace id
 * gains the runtime.* and k8s.* fields; a selection (-c, --k8s-*) fills the
 * gadget's mntns filter map before its first event and keeps it current as
 * containers start and stop, and is applied in userspace too (for gadgets
 * without the map, for --host, and for events already in flight).
 */
export class ContainerStage {
  private unsubscribe?: () => void;
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
    const coll = await ContainerCollection.open(collectionOptionsFromArgs(args));
    const stage = new ContainerStage(coll, sel, owners, nodeName());
    const extra = enrichmentFields(coll.hasKubernetes());
    for (const ds of inst.spec.datasources) if (owners.has(ds.name)) ds.fields = [...extra, ...ds.fields];
    return stage;
  }

  /** Whether the selection goes into the kernel (it cannot when host events are wanted too). */
  kernelFilter(inst: GadgetInstance): boolean {
    return !!this.sel && !this.sel.host && inst.hasFilterMap();
  }

  /** After load: fill the filter map and follow container changes. */
  start(inst: GadgetInstance): void {
    if (!this.kernelFilter(inst)) return;
    const sync = () => inst.setMntnsFilter(this.selected().map((c) => c.mntns));
    sync();
    this.unsubscribe = this.coll.onChange(sync);
  }

  private selected(): ContainerInfo[] {
    return this.coll.list().filter((c) => matches(c, this.sel!));
  }

  apply(b: EventBatch): EventBatch {
    const owner = this.owners.get(b.datasource);
    if (!owner) return b;
    const events = [];
    for (const e of b.events) {
      const id = e[owner.name];
      const c = id === undefined ? undefined
        : owner.by === 'mntns' ? this.coll.byMntns(BigInt(id as number | bigint)) : this.coll.byNetns(Number(id));
      if (this.sel && !matches(c, this.sel)) continue;
      enrich(e, c, this.node);
      events.push(e);
    }
    return events.length === b.events.length ? b : { ...b, events };
  }

  /**
   * Network namespaces a socket snapshot should read: the selected containers'
   * (and ours with --host), or without a selection ours and every container's.
   */
  netnsPaths(): string[] {
    const paths = new Map<number, string>();
    const self = statSync('/proc/self/ns/net').ino;
    if (!this.sel || this.sel.host) paths.set(self, '/proc/self/ns/net');
    for (const c of this.sel ? this.selected() : this.coll.list()) {
      if (!paths.has(c.netns)) paths.set(c.netns, `/proc/${c.pid}/ns/net`);
    }
    return [...paths.values()];
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    await this.coll.close();
  }
}
