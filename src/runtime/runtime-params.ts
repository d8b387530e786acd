/**
 * Params the runtime adds to a gadget for how its programs attach, as IG's ebpf operator adds
 * `--iface` to gadgets with classifiers: `--iface` (xdp, tcx; classifiers also on the host's
 * interfaces), `--cgroup` (cgroup programs; default the cgroup v2 root) and `--pf` (classifiers
 * with a GADGET_PF hook: a pcap filter, packet-filter/).
 */
import type { BtfType, ProgramInfo } from '../../native/index.js';
import type { ParamSpec } from '../gadget/params.js';
import { packetFilterParams } from './packet-filter/index.js';
import { splitCommaList } from '../text/comma-list.js';
import { sectionInfo } from './sections.js';

function runtimeParam(key: string, description: string): ParamSpec {
  return { key, variable: '', section: '', offset: -1, size: 0, kind: 'string', description, default: '', runtime: true };
}

export function runtimeParams(programs: ProgramInfo[], btf: readonly BtfType[]): ParamSpec[] {
  const kinds = new Set(programs.map((p) => sectionInfo(p).plan.kind));
  const out: ParamSpec[] = [];
  if (kinds.has('xdp') || kinds.has('tcx') || kinds.has('classifier')) {
    out.push(runtimeParam('iface', kinds.has('classifier')
      ? 'network interfaces of the host to attach to (comma list); without it, each selected container\'s interfaces'
      : 'network interfaces to attach to (comma list)'));
  }
  if (kinds.has('classifier')) out.push(...packetFilterParams(btf));
  if (kinds.has('cgroup')) out.push(runtimeParam('cgroup', 'cgroup (v2) directory to attach to; default: the cgroup v2 root'));
  return out;
}

/** `--iface a,b` → ['a', 'b'] */
export function ifaceList(v: string | undefined): string[] {
  return splitCommaList(v ?? '').map((s) => s.trim()).filter(Boolean);
}
