/**
 * IG's section-name grammar: what each program of a gadget is and where it attaches. libbpf 1.5
 * knows most names; where it does not (IG's `socket1`, `classifier/ingress/main`,
 * `perf_event/profiler`), the runtime sets the program type itself before load, so the kernel is
 * never handed a program of unknown type (which it would refuse with a misleading EINVAL).
 */
import type { ProgramInfo } from '../../native/index.js';
import { IgError } from '../errors.js';
import { AttachType, ProgType } from '../model/kernel.js';

/** IG's attach target that leaves a program loaded but not attached. */
export const DISABLED_TARGET = 'gadget_program_disabled';

type Direction = 'ingress' | 'egress';

export type AttachPlan =
  /** libbpf attaches it from its section: tracepoint, raw_tp, tp_btf, kprobe, fentry, lsm… */
  | { kind: 'auto' }
  /** iterators run when read (snapshotters) */
  | { kind: 'iter' }
  | { kind: 'disabled' }
  /** a sampling perf event on every CPU; `name` is IG's key in gadget.yaml `programs.<name>` */
  | { kind: 'perf-event'; name: string }
  /** an AF_PACKET socket per network namespace (host and containers), through a dispatcher */
  | { kind: 'socket' }
  /** IG's `classifier/<dir>/*`: legacy tc on each container interface, or on --iface */
  | { kind: 'classifier'; direction: Direction }
  /** tcx link on --iface (libbpf's `tcx/<dir>` and its alias `tc/<dir>`) */
  | { kind: 'tcx'; direction: Direction }
  /** xdp link on --iface */
  | { kind: 'xdp' }
  /** cgroup link on --cgroup (default: the cgroup v2 root) */
  | { kind: 'cgroup'; attachType: number }
  /** a uprobe/uretprobe/usdt on a binary given by path or library name (`libc`) */
  | { kind: 'uprobe'; probe: 'uprobe' | 'uretprobe' | 'usdt'; target: string; symbol: string };

export interface SectionInfo {
  plan: AttachPlan;
  /** set before load where libbpf does not know the section */
  fixType?: { type: number; expectedAttachType?: number };
}

function direction(sec: string, word: string | undefined): Direction {
  if (word === 'ingress' || word === 'egress') return word;
  throw new IgError('invalid-object', `section "${sec}": the direction must be ingress or egress, not "${word ?? ''}"`, {
    hint: 'name the program SEC("classifier/ingress/NAME") or SEC("classifier/egress/NAME"), as Inspektor Gadget does',
  });
}

/** What a program is and how it attaches, from its ELF section (and libbpf's reading of it). */
export function sectionInfo(p: ProgramInfo): SectionInfo {
  const sec = p.section;
  const [head, ...rest] = sec.split('/');
  const target = rest.join('/');
  if (target === DISABLED_TARGET || rest[rest.length - 1] === DISABLED_TARGET) return { plan: { kind: 'disabled' } };
  if (head === 'iter' || head === 'iter.s') return { plan: { kind: 'iter' } };
  if (/^socket/.test(head!) && rest.length === 0) {
    return { plan: { kind: 'socket' }, fixType: sec === 'socket' ? undefined : { type: ProgType.SOCKET_FILTER } };
  }
  if (head === 'classifier' || head === 'tc') {
    if (head === 'tc' && rest.length === 1 && (rest[0] === 'ingress' || rest[0] === 'egress')) {
      return { plan: { kind: 'tcx', direction: rest[0] } };
    }
    if (rest.length === 0) {
      throw new IgError('invalid-object', `program ${p.name}: section "${sec}" does not say where to attach`, {
        hint: 'use SEC("classifier/ingress/NAME"), SEC("classifier/egress/NAME") (tc) or SEC("tcx/ingress") (tcx)',
      });
    }
    return { plan: { kind: 'classifier', direction: direction(sec, rest[0]) }, fixType: { type: ProgType.SCHED_CLS } };
  }
  if (head === 'tcx') {
    const dir = direction(sec, rest[0]);
    return {
      plan: { kind: 'tcx', direction: dir },
      fixType: rest.length > 1 ? { type: ProgType.SCHED_CLS, expectedAttachType: dir === 'ingress' ? AttachType.TCX_INGRESS : AttachType.TCX_EGRESS } : undefined,
    };
  }
  if (head === 'xdp' || head === 'xdp.frags') {
    const known = rest.length === 0 || ['devmap', 'cpumap'].includes(rest[0]!);
    return { plan: { kind: 'xdp' }, fixType: known ? undefined : { type: ProgType.XDP, expectedAttachType: AttachType.XDP } };
  }
  if (head === 'cgroup' || head === 'cgroup_skb') {
    if (p.type === ProgType.UNSPEC) {
      throw new IgError('invalid-object', `program ${p.name}: "${sec}" is not a cgroup hook libbpf knows`, {
        hint: 'use one of cgroup/skb, cgroup_skb/ingress, cgroup_skb/egress, cgroup/sock_create, cgroup/sock_release, cgroup/post_bind4, cgroup/connect4, …',
      });
    }
    return { plan: { kind: 'cgroup', attachType: p.expectedAttachType } };
  }
  if (head === 'perf_event') {
    return { plan: { kind: 'perf-event', name: target }, fixType: rest.length ? { type: ProgType.PERF_EVENT } : undefined };
  }
  if (head === 'uprobe' || head === 'uretprobe' || head === 'usdt' || head === 'uprobe.s' || head === 'uretprobe.s') {
    const colon = target.indexOf(':');
    const probe = head.startsWith('uretprobe') ? 'uretprobe' : head === 'usdt' ? 'usdt' : 'uprobe';
    if (colon <= 0 || colon === target.length - 1) {
      throw new IgError('invalid-object', `program ${p.name}: section "${sec}" must be ${head}/<path or library>:<${probe === 'usdt' ? 'provider:name' : 'symbol'}>`, {
        hint: `e.g. SEC("${probe}/libc:malloc") or SEC("${probe}//usr/bin/bash:readline")`,
      });
    }
    const file = target.slice(0, colon);
    if (!file.startsWith('/') && file.includes('/')) {
      throw new IgError('invalid-object', `program ${p.name}: "${file}" in "${sec}" is neither an absolute path nor a library name`);
    }
    const symbol = target.slice(colon + 1);
    if (probe === 'usdt' && symbol.split(':').length !== 2) {
      throw new IgError('invalid-object', `program ${p.name}: section "${sec}" must be usdt/<path or library>:<provider>:<name>`);
    }
    return { plan: { kind: 'uprobe', probe, target: file, symbol } };
  }
  if (p.type === ProgType.UNSPEC) {
    throw new IgError('invalid-object', `program ${p.name}: section "${sec}" is not a program type ig knows`, {
      hint: 'Inspektor Gadget\'s section names: tracepoint/, raw_tp/, tp_btf/, kprobe/, kretprobe/, fentry/, fexit/, iter/, socket*, classifier/<ingress|egress>/, tcx/<ingress|egress>, xdp, cgroup/…, perf_event/, uprobe/, uretprobe/, usdt/',
    });
  }
  return { plan: { kind: 'auto' } };
}

/** Whether some program attaches per target (host and containers): socket filters, IG's classifiers, uprobes. */
export function attachesPerTarget(programs: readonly ProgramInfo[]): boolean {
  return programs.some((p) => {
    try {
      return ['socket', 'classifier', 'uprobe'].includes(sectionInfo(p).plan.kind);
    } catch {
      return false;
    }
  });
}
