import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { ContainerInfo } from '../types.js';
import type { RuntimeSource } from './source.js';

/**
 * Processes in mount namespaces that no container runtime claims (an `unshare
 * --mount` shell, a systemd service with PrivateTmp, a sandbox): each such
 * namespace is listed as one "container" of runtime `proc`, named after its
 * oldest process. Opt-in with `--runtimes …,proc`, since on a plain host many
 * services have private mount namespaces.
 */
export class ProcSource implements RuntimeSource {
  readonly runtime = 'proc';
  readonly socket = '/proc';
  /** mount namespaces real runtimes own; the collection sets this (those are theirs, not ours) */
  claimed: () => Set<bigint> = () => new Set();

  constructor(private readonly hostMntns: bigint | undefined, private readonly root = '/proc') {}

  async connect(): Promise<void> {
    statSync(`${this.root}/self/ns/mnt`);
  }

  async list(): Promise<ContainerInfo[]> {
    const claimed = this.claimed();
    const oldest = new Map<bigint, { pid: number; start: number }>();
    for (const d of readdirSync(this.root)) {
      if (!/^\d+$/.test(d)) continue;
      const pid = Number(d);
      let mntns: bigint;
      try {
        mntns = BigInt(statSync(`${this.root}/${pid}/ns/mnt`).ino);
      } catch {
        continue; // gone, or a kernel thread we may not look at
      }
      if (mntns === this.hostMntns || claimed.has(mntns)) continue;
      const start = startTime(this.root, pid);
      const o = oldest.get(mntns);
      if (!o || start < o.start || (start === o.start && pid < o.pid)) oldest.set(mntns, { pid, start });
    }
    const out: ContainerInfo[] = [];
    for (const [mntns, { pid }] of oldest) {
      let netns = 0;
      let comm = '';
      try {
        netns = statSync(`${this.root}/${pid}/ns/net`).ino;
        comm = readFileSync(`${this.root}/${pid}/comm`, 'utf8').trim();
      } catch {
        continue;
      }
      out.push({
        id: `mntns-${mntns}`, name: `${comm}-${pid}`, runtime: 'proc', pid, mntns, netns,
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
