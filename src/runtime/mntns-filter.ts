/**
 * The kernel side of container selection: a gadget built with gadget/mntns_filter.h checks each
 * event's mount namespace against `gadget_mntns_filter_map` when `gadget_filter_by_mntns` is
 * set. With IG's headers the map lists the namespaces to keep (an allow list); with ours it can
 * list those to drop (`gadget_mntns_filter_denies`), so a container nobody knows yet is not lost.
 */
import type { GadgetSpec } from '../gadget/spec.js';
import { native } from './native.js';

export const FILTER_MAP = 'gadget_mntns_filter_map';
export const FILTER_FLAG = 'gadget_filter_by_mntns';
export const DENY_FLAG = 'gadget_mntns_filter_denies';
/** A deny list holds every other namespace of the node; room for a large one. */
export const DENY_MAP_ENTRIES = 16384;

/** What the gadget's filter can do: a deny list (our headers), an allow list (IG's), or nothing. */
export function mntnsFilterSupport(spec: GadgetSpec): 'deny' | 'allow' | null {
  if (!spec.maps.some((m) => m.name === FILTER_MAP) || !spec.btf.findVariable(FILTER_FLAG)) return null;
  return spec.btf.findVariable(DENY_FLAG) ? 'deny' : 'allow';
}

/** The loaded filter map, kept equal to a set of namespace ids with as few updates as possible. */
export class MntnsFilterMap {
  private readonly filtered = new Set<bigint>();

  constructor(private readonly fd: number) {}

  set(ids: Iterable<bigint>): void {
    const n = native();
    const want = new Set(ids);
    const one = Buffer.from([1, 0, 0, 0]);
    const key = (id: bigint) => {
      const k = Buffer.alloc(8);
      k.writeBigUInt64LE(id);
      return k;
    };
    for (const id of want) {
      if (this.filtered.has(id)) continue;
      n.mapUpdate(this.fd, key(id), one, 0);
      this.filtered.add(id);
    }
    for (const id of [...this.filtered]) {
      if (want.has(id)) continue;
      n.mapDelete(this.fd, key(id));
      this.filtered.delete(id);
    }
  }
}
