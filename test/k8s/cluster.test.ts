// On a real cluster only (KUBECONFIG set, and IG_TEST_AGENT_IMAGE naming an agent image its nodes
// can pull: `npm run build:image`, then `skopeo copy oci:dist/image:ig:VERSION docker://…`):
// ig deploy --wait, trace_open on every node through that node's agent, ig undeploy --wait.
// No fake API server stands in for a real one; without a cluster the test is skipped and says why.
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { AGENT_SELECTOR, AGENT_SOCKET } from '../../src/k8s/manifests.js';
import { jsonLines, runIg } from '../helpers/ig.js';

const execFileP = promisify(execFile);
const image = process.env.IG_TEST_AGENT_IMAGE;
const skipReason = !process.env.KUBECONFIG
  ? 'KUBECONFIG is not set, so there is no cluster to deploy to'
  : !image
    ? 'IG_TEST_AGENT_IMAGE is not set (the agent image the cluster\'s nodes can pull)'
    : undefined;
if (skipReason) process.stdout.write(`test/k8s/cluster.test.ts: skipped: ${skipReason}\n`);

const namespace = `ig-test-${randomBytes(3).toString('hex')}`;
const selector = Object.entries(AGENT_SELECTOR).map(([k, v]) => `${k}=${v}`).join(',');
const kubectl = async (args: string[]) => (await execFileP('kubectl', args, { maxBuffer: 64 << 20 })).stdout;

afterAll(async () => {
  if (!skipReason) await runIg(['undeploy', '--gadget-namespace', namespace, '--timeout', '120'], { timeoutMs: 180_000 });
});

describe.skipIf(!!skipReason)(`on the cluster in KUBECONFIG${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  it('deploys, runs trace_open on every node through its agent, and undeploys', async () => {
    const dep = await runIg(['deploy', '--image', image!, '--gadget-namespace', namespace, '--timeout', '300'], { timeoutMs: 360_000 });
    expect(dep.code, dep.stderr).toBe(0);
    expect(dep.stderr).toMatch(/ig agent ready on (\d+)\/\1 node\(s\)/);

    const pods = JSON.parse(await kubectl(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'])) as { items: { metadata: { name: string }; spec: { nodeName: string } }[] };
    const nodes = JSON.parse(await kubectl(['get', 'nodes', '-o', 'json'])) as { items: unknown[] };
    expect(pods.items.length).toBeGreaterThan(0);
    expect(pods.items.length).toBeLessThanOrEqual(nodes.items.length);
    expect(dep.stderr.split('\n').filter((l) => /: ready \(/.test(l)).length).toBe(pods.items.length); // one line per node
    for (const p of pods.items) {
      // the client runs in the agent's pod (exec), its own opens are events of that pod
      const out = await kubectl(['exec', '-n', namespace, p.metadata.name, '--', 'ig', 'run', 'trace_open', '-o', 'json', '-t', '3', '--remote-address', `unix://${AGENT_SOCKET}`]);
      const events = jsonLines(out) as { k8s: Record<string, unknown> }[];
      expect(events.length, `no event on ${p.spec.nodeName}`).toBeGreaterThan(0);
      expect(events.every((e) => e.k8s.node === p.spec.nodeName)).toBe(true);
      const own = events.filter((e) => e.k8s.podName === p.metadata.name);
      expect(own.length, `no event from the agent's own pod on ${p.spec.nodeName}`).toBeGreaterThan(0);
      expect(own[0]!.k8s.namespace).toBe(namespace);
      expect(own[0]!.k8s.owner).toEqual({ kind: 'DaemonSet', name: 'ig-agent' });
      expect(String(own[0]!.k8s.podLabels)).toContain('app.kubernetes.io/component=agent');
    }

    // the cluster run: every node's agent through the API server, merged, each event with its node
    const k8s = await runIg(['run', 'trace_open', '--k8s', '--gadget-namespace', namespace, '-n', namespace, '-o', 'json', '-t', '5'], { timeoutMs: 120_000 });
    expect(k8s.code, k8s.stderr).toBe(0);
    const seen = new Set((jsonLines(k8s.stdout) as { k8s: { node: string; namespace: string } }[]).map((e) => e.k8s.node));
    expect(seen).toEqual(new Set(pods.items.map((p) => p.spec.nodeName)));
    const one = pods.items[0]!.spec.nodeName;
    const onOne = await runIg(['run', 'trace_open', '--k8s', '--gadget-namespace', namespace, '-A', '--node', one, '-t', '3'], { timeoutMs: 120_000 });
    expect(onOne.code, onOne.stderr).toBe(0);
    expect(onOne.stdout.split('\n')[0]).toMatch(/\bK8S\.NODE\b/);
    expect(onOne.stdout.split('\n').slice(1).filter(Boolean).every((l) => l.includes(one))).toBe(true);

    const un = await runIg(['undeploy', '--gadget-namespace', namespace, '--timeout', '120'], { timeoutMs: 180_000 });
    expect(un.code, un.stderr).toBe(0);
    expect(un.stderr).toMatch(/every agent pod is gone/);
  }, 900_000);
});
