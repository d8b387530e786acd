// The cluster run's plumbing without a cluster (issue 15): ig run --k8s gives each agent a local
// unix socket whose connections are piped into a port-forward stream to the agent's loopback
// gRPC port, and hands those sockets to the remote client. Here the agents are real daemons
// started with the DaemonSet's two listeners, and each stream is a TCP connection driven as
// PortForward drives its streams (test/helpers/stream-pair.ts); the API server's part is covered
// by test/k8s/cluster.test.ts where a cluster exists. No fake API server stands in for one.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsonLines, runIg } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { waitFor } from '../helpers/kernel.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { tcpStreamOpener } from '../helpers/stream-pair.js';
import { relayFolder, relayUnixSocket, type LocalRelay } from '../../src/k8s/port-forward.js';

const store = tempStore();
const work = mkdtempSync(path.join(tmpdir(), 'ig-relay-'));
const daemons: TestDaemon[] = [];
const relays: LocalRelay[] = [];
const folder = relayFolder();

beforeAll(() => buildGadget('gadgets/trace_open', 'trace_open', store.env), 120_000);
afterAll(async () => {
  await Promise.all(relays.map((r) => r.close()));
  await Promise.all(daemons.map((d) => d.stop()));
  folder.remove();
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

/** An agent as the DaemonSet starts it: its unix socket and a plain loopback port. */
async function agent(node: string): Promise<{ port: number }> {
  const d = await startTestDaemon(['-H', `unix://${work}/${node}.sock`, '-H', 'tcp://127.0.0.1:0', '--tls-insecure', '--state-dir', ''], { env: store.env, node });
  daemons.push(d);
  return { port: Number(d.addresses[1]!.split(':').pop()) };
}

describe('local sockets piped into per-agent streams (the client side of ig run --k8s)', () => {
  it('merge two agents\' events through their relays, each event with its node; streams close with their connections', async () => {
    const streams = { opened: 0, closed: 0 };
    const a = await agent('node-a');
    const b = await agent('node-b');
    for (const [i, x] of [a, b].entries()) {
      relays.push(await relayUnixSocket(path.join(folder.dir, `${i}.sock`), tcpStreamOpener(x.port, () => streams.opened++, () => streams.closed++)));
    }
    const file = path.join(work, `f-${randomBytes(4).toString('hex')}`);
    writeFileSync(file, 'x');
    const child = spawn(process.execPath, ['-e', `setInterval(() => require('fs').closeSync(require('fs').openSync(${JSON.stringify(file)}, 'r')), 50)`], { stdio: 'ignore' });
    try {
      const addresses = relays.map((r) => r.address).join(',');
      const r = await runIg(['run', 'trace_open', '--remote-address', addresses, '-o', 'json', '-t', '2', '--pid', String(child.pid)], { env: store.env });
      expect(r.code, r.stderr).toBe(0);
      const mine = (jsonLines(r.stdout) as { fname: string; k8s: { node: string } }[]).filter((e) => e.fname === file);
      expect(new Set(mine.map((e) => e.k8s.node))).toEqual(new Set(['node-a', 'node-b']));
      // columns, with the node column a cluster run adds
      const c = await runIg(['run', 'trace_open', '--remote-address', addresses, '-t', '1.5', '--pid', String(child.pid), '--fields', '+k8s.node'], { env: store.env });
      expect(c.code, c.stderr).toBe(0);
      expect(c.stdout.split('\n')[0]).toMatch(/\bK8S\.NODE\b/);
      expect(c.stdout).toMatch(/node-a/);
      expect(c.stdout).toMatch(/node-b/);
    } finally {
      child.kill();
    }
    expect(streams.opened).toBeGreaterThanOrEqual(2);
    // every stream the clients opened is closed once they are gone: no forward left open
    await waitFor(() => streams.closed === streams.opened, 30_000, `the streams to close (${streams.closed} of ${streams.opened} closed)`);
  }, 90_000);

  it('a stream that cannot be opened is a failed connection for the client, not a hang', async () => {
    const relay = await relayUnixSocket(path.join(folder.dir, 'broken.sock'), async () => {
      throw new Error('403 pods/portforward is forbidden');
    });
    relays.push(relay);
    const r = await runIg(['run', 'trace_open', '--remote-address', relay.address, '-t', '1'], { env: store.env, timeoutMs: 30_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^error: cannot run on the ig daemon at unix:\/\/.*broken\.sock/m);
  }, 60_000);

  it('ig run --k8s without a cluster says where it looked', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'ig-home-'));
    try {
      const env = { ...store.env, HOME: home, KUBECONFIG: '' };
      delete env.KUBERNETES_SERVICE_HOST;
      const r = await runIg(['run', 'trace_open', '--k8s', '-t', '1'], { env });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/^error: no Kubernetes cluster is configured: KUBECONFIG is not set, ~\/\.kube\/config does not exist and this is not a pod/m);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
