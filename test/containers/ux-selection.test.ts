/**
 * What `ig run` shows by default, and what it says when a selection matches nothing.
 * ig shows the host's events and every container's by default; `--host=false` shows containers
 * only (IG's default); `-c NAME --host` the host and that container. A selection nothing
 * matches, a runtime named with -r that cannot be reached and --k8s-* on a machine without
 * Kubernetes are said on stderr at once, with every runtime asked and what it answered.
 * HOST_ROOT points ig at a stand-in for the node's root whose /run holds only the podman
 * socket this test starts, so which runtimes answer is the same on every machine.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runIg, spawnIg, collect, jsonLines, withoutLoss } from '../helpers/ig.js';
import { podmanAvailable, startPodman, type PodmanHandle } from '../helpers/podman.js';
import { waitFor } from '../helpers/kernel.js';

const root = mkdtempSync(path.join(tmpdir(), 'ig-ux-root-'));
const home = mkdtempSync(path.join(tmpdir(), 'ig-ux-home-'));
// trace_open from the default store; no kubeconfig; runtimes' sockets under `root`
const env: NodeJS.ProcessEnv = { ...process.env, HOST_ROOT: root, HOME: home, KUBECONFIG: '' };
let pm: PodmanHandle | undefined;
const podmanSock = path.join(root, 'run/podman/podman.sock');

beforeAll(async () => {
  symlinkSync('/proc', path.join(root, 'proc')); // the node's /proc is ours
  mkdirSync(path.dirname(podmanSock), { recursive: true });
  if (!podmanAvailable()) return;
  pm = await startPodman({ socket: podmanSock });
  await pm.run('ux-web'); // cat /etc/hostname every 0.2 s
}, 120_000);
afterAll(async () => {
  await pm?.stop();
  rmSync(root, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

type Ev = { comm: string; fname: string; runtime: { containerName: string } };

/** Who opened /etc/hostname during ~3 s while the host's `cat` opens it too: container names ('' = the host). */
async function whoOpens(flags: string[]): Promise<Set<string>> {
  const child = spawnIg(['run', 'trace_open', '-o', 'json', '-F', 'fname==/etc/hostname', '-F', 'comm==cat', ...flags], { env });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const done = collect(child, 30_000);
  const seen = () => new Set((jsonLines(out) as Ev[]).map((e) => e.runtime.containerName));
  try {
    await waitFor(() => {
      execFileSync('cat', ['/etc/hostname']);
      return seen().size >= 2;
    }, 4000).catch(() => undefined);
  } finally {
    child.kill('SIGINT');
  }
  const r = await done;
  expect(r.code, r.stderr).toBe(0);
  return seen();
}

const notReachable = (rt: string, sock: string) => `  ${rt} ${path.join(root, sock)}`;

describe.skipIf(!podmanAvailable())('what ig run shows by default', () => {
  it('the host and every container by default; --host=false containers only (IG\'s default); -c NAME --host both', async () => {
    expect([...await whoOpens([])].sort()).toEqual(['', 'ux-web']);
    expect([...await whoOpens(['--host=false'])]).toEqual(['ux-web']);
    expect([...await whoOpens(['-c', 'ux-web'])]).toEqual(['ux-web']);
    expect([...await whoOpens(['-c', 'ux-web', '--host'])].sort()).toEqual(['', 'ux-web']);
  });

  it('-c doesnotexist: says which runtimes were reached and which not and why, and that ig waits (exit 0)', async () => {
    const r = await runIg(['run', 'trace_open', '-c', 'doesnotexist', '-t', '1'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^RUNTIME\.CONTAINERNAME +MNTNS_ID +PID .* FNAME\n$/);
    const w = Math.max(...['docker /var/run/docker.sock', 'containerd /run/containerd/containerd.sock', 'cri-o /run/crio/crio.sock', 'podman /run/podman/podman.sock'].map((x) => x.length + root.length));
    const line = (rt: string, sock: string, what: string) => `  ${`${rt} ${path.join(root, sock)}`.padEnd(w)}  ${what}\n`;
    expect(withoutLoss(r.stderr)).toBe(
      'warning: no container matches -c doesnotexist yet; ig is waiting for it (Ctrl-C to stop). Container runtimes asked:\n' +
      line('docker', '/var/run/docker.sock', 'not reachable: no such socket') +
      line('containerd', '/run/containerd/containerd.sock', 'not reachable: no such socket') +
      line('cri-o', '/run/crio/crio.sock', 'not reachable: no such socket') +
      line('podman', '/run/podman/podman.sock', 'reached, 1 container'),
    );
  });

  it('-r docker with its socket missing: says docker was not reached and why, and that ig waits', async () => {
    const r = await runIg(['run', 'trace_open', '-r', 'docker', '-c', 'web', '-t', '1'], { env });
    expect(r.code).toBe(0);
    expect(withoutLoss(r.stderr)).toBe(
      'warning: no container matches -c web yet; ig is waiting for it (Ctrl-C to stop). Container runtimes asked:\n' +
      `${notReachable('docker', '/var/run/docker.sock')}  not reachable: no such socket\n` +
      'hint: start a container runtime, or name where its socket is (--docker-socketpath)\n',
    );
    const alone = await runIg(['run', 'trace_open', '-r', 'docker,podman', '-t', '1', '-F', 'fname==/none'], { env });
    expect(alone.code).toBe(0);
    expect(withoutLoss(alone.stderr)).toBe(
      'warning: not every runtime named with -r can be reached; events of their containers will show without container fields:\n' +
      `  ${`docker ${path.join(root, '/var/run/docker.sock')}`.padEnd(`podman ${podmanSock}`.length)}  not reachable: no such socket\n` +
      `  podman ${podmanSock}  reached, 1 container\n`,
    );
  });

  it('--k8s-podname on a machine without Kubernetes says so', async () => {
    const r = await runIg(['run', 'trace_open', '-r', 'podman', '--k8s-podname', 'web', '-t', '1'], { env });
    expect(r.code).toBe(0);
    expect(withoutLoss(r.stderr)).toBe(
      'warning: no container matches --k8s-podname web yet; ig is waiting for it (Ctrl-C to stop). Container runtimes asked:\n' +
      `  podman ${podmanSock}  reached, 1 container\n` +
      'warning: this machine shows no Kubernetes: no container belongs to a pod and no kubeconfig (KUBECONFIG, ~/.kube/config) or in-cluster account exists, so --k8s-podname can match nothing here\n',
    );
  });
});
