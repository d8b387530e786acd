import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { ContainerInfo } from '../types.js';
import type { RuntimeSource } from './source.js';

/**
 * Processes in mount namespaces that no container runtime claims (an `unshare
 * --mount` shell, a systemd service with PrivateTmp, a sandbox): each such
 * namespace is listed as one "container" of runtime `proc`, named after its
 * oldest process. So is each pid namespace of processes that share the host's
 * mount namespace (an `unshare --pid --fork`): gadgets with a pid namespace
 * field (gadget/pidns.h) are enriched by it. Opt-in with `--runtimes …,proc`,
 * since on a plain host many services have private mount namespaces.
 */
export class ProcSource implements RuntimeSource {
  readonly runtime = 'proc';
  readonly socket = '/proc';
  /** mount namespaces real runtimes own; the collection sets this (those are theirs, not ours) */
  claimed: () => Set<bigint> = () => new Set();
  /** pid namespaces real runtimes own */
  claimedPidns: () => Set<number> = () => new Set();

  constructor(private readonly host: { mntns: bigint | undefined; pidns: number | undefined }, private readonly root = '/proc') {}

  async connect(): Promise<void> {
    statSync(`${this.root}/self/ns/mnt`);
  }

  async list(): Promise<ContainerInfo[]> {
    const claimed = this.claimed();
    const claimedPidns = this.claimedPidns();
    // key: `m<mntns>` for a mount namespace of its own, `p<pidns>` for a pid namespace in the host's mount namespace
    const oldest = new Map<string, { pid: number; start: number; mntns: bigint; pidns: number }>();
    for (const d of readdirSync(this.root)) {
      if (!/^\d+$/.test(d)) continue;
      const pid = Number(d);
      let mntns: bigint;
      let pidns: number;
      try {
        mntns = BigInt(statSync(`${this.root}/${pid}/ns/mnt`).ino);
        pidns = statSync(`${this.root}/${pid}/ns/pid`).ino;
      } catch {
        continue; // gone, or a kernel thread we may not look at
      }
      if (claimed.has(mntns) || claimedPidns.has(pidns)) continue;
      let key: string;
      if (mntns !== this.host.mntns) key = `m${mntns}`;
      else if (pidns !== this.host.pidns) key = `p${pidns}`;
      else continue;
      const start = startTime(this.root, pid);
      const o = oldest.get(key);
      if (!o || start < o.start || (start === o.start && pid < o.pid)) oldest.set(key, { pid, start, mntns, pidns });
    }
    const out: ContainerInfo[] = [];
    for (const [key, { pid, mntns, pidns }] of oldest) {
      let netns = 0;
      let comm = '';
      try {
        netns = statSync(`${this.root}/${pid}/ns/net`).ino;
        comm = readFileSync(`${this.root}/${pid}/comm`, 'utf8').trim();
      } catch {
        continue;
      }
      out.push({
        id: key.startsWith('m') ? `mntns-${mntns}` : `pidns-${pidns}`, name: `${comm}-${pid}`, runtime: 'proc', pid, mntns, netns, pidns,
        imageName: '', imageDigest: '', startedAt: '',
      });
    }
    return out;
  }

  close(): void {}
}

/** Field 22 of /proc/PID/stat: start time in clock ticks after boot (comm may hold spaces, so split after ")"). */
function startTime(root: string, pid: number): number {
  try {
    const s = readFileSync(`${root}/${pid}/stat`, 'latin1');
    return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return Number.MAX_SAFE_INTEGER;
  }
}
