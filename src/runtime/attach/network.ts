/**
 * Programs that attach to one interface or one cgroup the user names: xdp and tcx links on
 * `--iface`, cgroup links on `--cgroup` (default: the cgroup v2 root, as IG attaches sock_ops).
 * All are bpf links: they go away with ig's file descriptors, on every exit path, SIGKILL too.
 * IG's classifiers on `--iface` go through the per-target attacher (dispatcher + tc).
 */
import { readFileSync } from 'node:fs';
import type { Attachment } from '../../../native/index.js';
import { IgError } from '../../errors.js';
import { native } from '../native.js';
import type { AttachPlan } from '../sections.js';

const EINVAL = 22, ENODEV = 19, EOPNOTSUPP = 95, EEXIST = 17, EBUSY = 16;

/** The cgroup v2 mount point (unified or hybrid hierarchy). */
function cgroup2Root(): string {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  for (const l of mounts) {
    const [pre, post] = l.split(' - ');
    if (post?.startsWith('cgroup2 ')) return pre!.split(' ')[4]!;
  }
  throw new IgError('unsupported', 'no cgroup v2 file system is mounted: cgroup programs need one', {
    hint: 'mount it: mount -t cgroup2 none /sys/fs/cgroup/unified (or boot with systemd.unified_cgroup_hierarchy=1)',
  });
}

export interface NetworkParams { ifaces: string[]; cgroup?: string }

/** Attach one program of kind xdp, tcx or cgroup; returns what to detach. */
export function attachNetwork(progFd: number, prog: string, section: string, plan: AttachPlan, p: NetworkParams): Attachment[] {
  const n = native();
  if (plan.kind === 'cgroup') {
    const cgroupPath = p.cgroup || cgroup2Root();
    try {
      return [new n.Attachment({ kind: 'cgroup', progFd, cgroupPath, attachType: plan.attachType })];
    } catch (err) {
      throw netError(err, prog, section, `cgroup ${cgroupPath}`);
    }
  }
  if (plan.kind !== 'xdp' && plan.kind !== 'tcx') return [];
  if (p.ifaces.length === 0) {
    throw new IgError('usage', `program ${prog} (${section}) attaches to a network interface: give it with --iface`, {
      hint: 'e.g. --iface eth0 (a comma list attaches to each)',
    });
  }
  const out: Attachment[] = [];
  try {
    for (const ifname of p.ifaces) {
      try {
        out.push(new n.Attachment({ kind: plan.kind, progFd, ifname, direction: plan.kind === 'tcx' ? plan.direction : undefined }));
      } catch (err) {
        throw netError(err, prog, section, `interface ${ifname}`, plan.kind);
      }
    }
  } catch (err) {
    for (const a of out) a.detach();
    throw err;
  }
  return out;
}

function netError(err: unknown, prog: string, section: string, where: string, kind?: string): IgError {
  const e = err as { errno?: number; message: string };
  if (e.errno === ENODEV) return new IgError('usage', `program ${prog} (${section}): there is no ${where}`, { hint: 'list the interfaces with `ip link`', cause: err });
  if (kind === 'tcx' && (e.errno === EINVAL || e.errno === EOPNOTSUPP)) {
    return new IgError('unsupported', `this kernel has no tcx (Linux 6.6+): cannot attach program ${prog} (${section}) to ${where}`, {
      hint: 'use a gadget whose program is SEC("classifier/ingress/NAME") (legacy tc), or run on Linux 6.6 or later',
      cause: err,
    });
  }
  if (kind === 'xdp' && (e.errno === EEXIST || e.errno === EBUSY)) {
    return new IgError('kernel', `program ${prog} (${section}): ${where} already has an XDP program`, {
      hint: 'an interface takes one XDP program at a time; see `bpftool net`',
      cause: err,
    });
  }
  return new IgError('kernel', `cannot attach program ${prog} (${section}) to ${where}: ${e.message}`, { cause: err });
}
