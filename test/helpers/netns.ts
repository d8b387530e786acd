// A veth pair between the host and a network namespace the test makes, and UDP datagrams sent
// across it, for tests of programs attached to interfaces (xdp, tc, tcx) and to cgroups.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnIg, collect, type IgResult } from './ig.js';
import { waitFor } from './kernel.js';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

export interface VethPair {
  ns: string;
  /** host side, and its address */
  host: string;
  hostAddr: string;
  /** namespace side, and its address */
  peer: string;
  peerAddr: string;
  /** the namespace's inode (as gadgets report netns ids) */
  nsInode: number;
  /** a process living in the namespace (so /proc/PID/ns/net names it) */
  holderPid: number;
  /** send `n` UDP datagrams of `size` bytes from the namespace to the host side's `port` */
  sendFromNs(port: number, n: number, size?: number): void;
  remove(): void;
}

/** `tag` keeps names short (interface names have 15 characters) and apart between test files. */
export function makeVeth(tag: string, subnet: number): VethPair {
  const ns = `igt-${tag}-${process.pid}`;
  const host = `ig${tag}0`, peer = `ig${tag}1`;
  const hostAddr = `10.231.${subnet}.1`, peerAddr = `10.231.${subnet}.2`;
  try { ip('netns', 'del', ns); } catch { /* not there */ }
  try { ip('link', 'del', host); } catch { /* not there */ }
  ip('netns', 'add', ns);
  ip('link', 'add', host, 'type', 'veth', 'peer', 'name', peer, 'netns', ns);
  ip('addr', 'add', `${hostAddr}/24`, 'dev', host);
  ip('link', 'set', host, 'up');
  ip('-n', ns, 'addr', 'add', `${peerAddr}/24`, 'dev', peer);
  ip('-n', ns, 'link', 'set', peer, 'up');
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  const holder = spawnSync('ip', ['netns', 'exec', ns, 'sh', '-c', 'sleep 600 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' });
  const holderPid = Number(holder.stdout.trim());
  const nsInode = Number(execFileSync('stat', ['-L', '-c', '%i', `/run/netns/${ns}`], { encoding: 'utf8' }).trim());
  return {
    ns, host, hostAddr, peer, peerAddr, nsInode, holderPid,
    sendFromNs(port, n, size = 10) {
      execFileSync('ip', ['netns', 'exec', ns, 'python3', '-c',
        `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(${n}): s.sendto(b'x'*${size},('${hostAddr}',${port}))`]);
    },
    remove() {
      try { process.kill(holderPid, 'SIGKILL'); } catch { /* gone */ }
      try { ip('link', 'del', host); } catch { /* gone with the namespace */ }
      try { ip('netns', 'del', ns); } catch { /* gone */ }
    },
  };
}

/** `bpftool net show dev IF` as text (xdp and tc attachments of one interface). */
export function bpftoolNet(dev: string): string {
  return execFileSync('bpftool', ['net', 'show', 'dev', dev], { encoding: 'utf8' });
}

/** `bpftool cgroup show DIR` as text. */
export function bpftoolCgroup(dir: string): string {
  return execFileSync('bpftool', ['cgroup', 'show', dir], { encoding: 'utf8' });
}

/** A cgroup v2 directory of the test's own, and a way to run a command inside it. */
export function makeCgroup(tag: string): { dir: string; run(cmd: string): string; remove(): void } {
  const root = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .find((l) => l.split(' - ')[1]?.startsWith('cgroup2 '))!.split(' ')[4]!;
  const dir = path.join(root, `igt-${tag}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return {
    dir,
    run: (cmd) => execFileSync('sh', ['-c', `echo $$ > ${dir}/cgroup.procs; exec ${cmd}`], { encoding: 'utf8' }),
    remove: () => {
      try {
        for (const p of readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) writeFileSync(path.join(root, 'cgroup.procs'), p);
        rmdirSync(dir);
      } catch { /* gone */ }
    },
  };
}

/** Start `ig ARGS`, wait until `ready()` holds (it has attached), trigger, collect its output. */
export async function runWhenReady<T>(
  args: string[], env: NodeJS.ProcessEnv, ready: (pid: number) => boolean, trigger: (pid: number) => T | Promise<T>, timeoutMs = 60_000,
): Promise<IgResult & { triggered: T }> {
  const child = spawnIg(args, { env });
  const result = collect(child, timeoutMs);
  let exited = false;
  child.on('exit', () => (exited = true));
  await waitFor(() => exited || ready(child.pid!), 20_000, `ig ${args.join(' ')} to attach`);
  if (exited) return { ...(await result), triggered: undefined as T };
  let triggered: T;
  try {
    triggered = await trigger(child.pid!);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return { ...(await result), triggered };
}
