// The node agent as Kubernetes would run it, without Kubernetes: the image built by
// scripts/build-image.mjs, started by podman with the arguments derived from the DaemonSet's own
// pod spec (test/helpers/pod-to-podman.ts), reached over the unix socket the pod shares with its
// node. The test's podman keeps its API socket in a stand-in for the node's /run; every other
// mount is the real host path the manifest names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { agentManifests, AGENT_GRPC_PORT, AGENT_SOCKET, HEALTH_PORT } from '../../src/k8s/manifests.js';
import { relayUnixSocket } from '../../src/k8s/port-forward.js';
import { netnsStreamOpener } from '../helpers/stream-pair.js';
import { packageVersion } from '../../src/paths.js';
import { collect, jsonLines, repoRoot, runIg, spawnIg } from '../helpers/ig.js';
import { bpfObjectExists, heldBpfIds, waitFor } from '../helpers/kernel.js';
import { podmanAvailable, startPodman, type PodmanHandle } from '../helpers/podman.js';
import { podmanRunArgs } from '../helpers/pod-to-podman.js';
import { buildSea } from '../helpers/sea.js';
import { startRegistry } from '../helpers/registry.js';
import { linkCount } from '../helpers/run-with.js';

const execFileP = promisify(execFile);
const NODE = 'node-under-test';
const available = podmanAvailable() && ['/usr/sbin/bpftool', '/usr/bin/skopeo', '/usr/bin/docker-registry'].every((f) => existsSync(f));

let dir: string;
let pm: PodmanHandle | undefined;
let socket: string;
let agentPid: number;

/** GET the agent's health port from inside its network namespace, as the kubelet would from the node. */
async function probe(p: string): Promise<{ status: number; body: string }> {
  const script = `fetch('http://127.0.0.1:${HEALTH_PORT}${p}').then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })), () => process.stdout.write('{"status":0,"body":""}'))`;
  const r = await execFileP('nsenter', ['-t', String(agentPid), '-n', '--', process.execPath, '-e', script]);
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  if (!available) return;
  dir = mkdtempSync(path.join(os.tmpdir(), 'ig-agent-podman-'));
  const sea = await buildSea(path.join(dir, 'ig'));
  await execFileP(process.execPath, [path.join(repoRoot, 'scripts', 'build-image.mjs'), '--sea', sea, '--out', path.join(dir, 'image')], { maxBuffer: 16 << 20 });
  const nodeRun = path.join(dir, 'node-run');
  pm = await startPodman({ socket: path.join(nodeRun, 'podman', 'podman.sock') });
  await pm.podman(['load', '-i', path.join(dir, 'image.tar')]);
  const version = packageVersion();
  const m = agentManifests({ image: `localhost/ig:${version}`, imagePullPolicy: 'Never', hostSocketDir: path.join(dir, 'agent-socket'), version });
  const { args } = podmanRunArgs(m.daemonSet.spec!.template.spec!, {
    name: 'ig-agent',
    nodeName: NODE,
    emptyDir: (v) => path.join(dir, 'empty', v),
    hostPath: (p) => (p === '/run' ? nodeRun : p),
  });
  await pm.podman(args);
  agentPid = Number((await pm.podman(['inspect', '--format', '{{.State.Pid}}', 'ig-agent'])).trim());
  socket = path.join(dir, 'agent-socket', path.basename(AGENT_SOCKET));
  await waitFor(async () => existsSync(socket) && (await probe('/readyz')).status === 200, 30_000, 'the agent to be ready').catch(async (e) => {
    throw new Error(`${(e as Error).message}: ${await pm!.podman(['logs', 'ig-agent']).catch(() => '')}`);
  });
}, 300_000);

afterAll(async () => {
  await pm?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!available)('the agent image under podman, started as the DaemonSet says', () => {
  it('is an OCI layout skopeo pushes to a registry unchanged (the nodes\' way in)', async () => {
    const reg = await startRegistry();
    try {
      const version = packageVersion();
      await execFileP('skopeo', ['copy', '--dest-tls-verify=false', `oci:${path.join(dir, 'image')}:ig:${version}`, `docker://${reg.host}/ig:${version}`]);
      const pushed = JSON.parse((await execFileP('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/ig:${version}`])).stdout) as { layers: { digest: string }[] };
      const local = JSON.parse((await execFileP('skopeo', ['inspect', '--raw', `oci:${path.join(dir, 'image')}:ig:${version}`])).stdout) as { layers: { digest: string }[] };
      expect(pushed.layers.map((l) => l.digest)).toEqual(local.layers.map((l) => l.digest));
    } finally {
      await reg.stop();
    }
  });

  it('is healthy and ready on its probe port', async () => {
    expect(await probe('/healthz')).toEqual({ status: 200, body: 'ok\n' });
    expect(await probe('/readyz')).toEqual({ status: 200, body: 'ready\n' });
  });

  it('serves `ig run trace_open --remote-address unix://…` and names a podman container and the node in its events', async () => {
    const name = `web-${randomBytes(3).toString('hex')}`;
    const c = await pm!.run(name);
    const r = await runIg(['run', 'trace_open', '--remote-address', `unix://${socket}`, '-o', 'json', '-t', '3', '-c', name]);
    expect(r.code, r.stderr).toBe(0);
    const events = jsonLines(r.stdout) as { fname?: string; pid?: number; runtime: Record<string, unknown>; k8s: Record<string, unknown> }[];
    const opens = events.filter((e) => e.fname === '/etc/hostname');
    expect(opens.length, `no open of /etc/hostname from ${name} among ${events.length} events; stderr: ${r.stderr}`).toBeGreaterThan(0);
    for (const e of events) {
      expect(e.runtime.containerName).toBe(name);
      expect(e.runtime.runtimeName).toBe('podman');
      expect(e.runtime.containerId).toBe(c.id);
      expect(e.k8s.node).toBe(NODE);
    }
  });

  it('serves its loopback gRPC port to a port-forward-like stream from inside the pod\'s network namespace (ig run --k8s\'s way in)', async () => {
    const name = `fwd-${randomBytes(3).toString('hex')}`;
    await pm!.run(name);
    const relay = await relayUnixSocket(path.join(dir, 'forward.sock'), netnsStreamOpener(agentPid, AGENT_GRPC_PORT));
    try {
      const r = await runIg(['run', 'trace_open', '--remote-address', relay.address, '-o', 'json', '-t', '3', '-c', name]);
      expect(r.code, r.stderr).toBe(0);
      const events = jsonLines(r.stdout) as { fname?: string; runtime: Record<string, unknown>; k8s: Record<string, unknown> }[];
      expect(events.some((e) => e.fname === '/etc/hostname')).toBe(true);
      expect(events.every((e) => e.runtime.containerName === name && e.k8s.node === NODE)).toBe(true);
    } finally {
      await relay.close();
    }
  });

  it('on SIGTERM ends its runs, exits 0 well before the grace period, and leaves no program, map or link behind', async () => {
    const client = spawnIg(['run', 'trace_open', '--remote-address', `unix://${socket}`, '-o', 'json']);
    const clientDone = collect(client, 60_000);
    await waitFor(() => linkCount(agentPid) > 0, 20_000, 'the agent to attach trace_open');
    const held = heldBpfIds(agentPid);
    expect(held.progs.length).toBeGreaterThan(0);
    expect(held.maps.length).toBeGreaterThan(0);
    expect(held.links.length).toBeGreaterThan(0);
    const t0 = Date.now();
    await pm!.podman(['stop', 'ig-agent']); // SIGTERM, then SIGKILL after --stop-timeout (the pod's grace period)
    const took = Date.now() - t0;
    expect(Number((await pm!.podman(['inspect', '--format', '{{.State.ExitCode}}', 'ig-agent'])).trim())).toBe(0);
    expect(took).toBeLessThan(10_000);
    const r = await clientDone;
    expect(r.signal).toBeNull(); // the client saw its stream end, it was not left hanging
    expect(held.progs.filter((id) => bpfObjectExists('prog', id))).toEqual([]);
    expect(held.maps.filter((id) => bpfObjectExists('map', id))).toEqual([]);
    expect(held.links.filter((id) => bpfObjectExists('link', id))).toEqual([]);
  });
});

if (!available) {
  describe('the agent image under podman', () => {
    it.skip('skipped: needs root, podman, runc, busybox, bpftool, skopeo and docker-registry (scripts/setup.sh --test installs them)', () => {});
  });
}
