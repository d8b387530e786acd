import { readdirSync, readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/**
 * eBPF program and map ids a process holds open, read from /proc/PID/fdinfo.
 * Tests use these to check that exactly what a run created is gone after it,
 * without being fooled by other programs loaded on the machine at the same time.
 */
export function heldBpfIds(pid: number): { progs: number[]; maps: number[]; links: number[] } {
  const progs = new Set<number>();
  const maps = new Set<number>();
  const links = new Set<number>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fdinfo`);
  } catch {
    return { progs: [], maps: [], links: [] };
  }
  for (const fd of fds) {
    let info = '';
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    const p = info.match(/^prog_id:\s+(\d+)/m);
    if (p) progs.add(Number(p[1]));
    const m = info.match(/^map_id:\s+(\d+)/m);
    if (m) maps.add(Number(m[1]));
    const l = info.match(/^link_id:\s+(\d+)/m);
    const lp = info.match(/^prog_id:\s+(\d+)/m);
    if (l && lp) progs.add(Number(lp[1]));
    if (l) links.add(Number(l[1]));
  }
  return { progs: [...progs], maps: [...maps], links: [...links] };
}

/** Whether bpftool still finds a program / map / link with this id. */
export function bpfObjectExists(kind: 'prog' | 'map' | 'link', id: number): boolean {
  try {
    execFileSync('bpftool', [kind, 'show', 'id', String(id)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Inode of a process's mount namespace, as gadgets report it in mntns_id. */
export function mntnsOf(pid: number | 'self'): number {
  return statSync(`/proc/${pid}/ns/mnt`).ino;
}

/** Wait until `fn` returns truthy, polling; throws after `ms`. */
export async function waitFor<T>(fn: () => T | Promise<T>, ms = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
