// `ig deploy --print-only`: what a GitOps user commits. Checked against Kubernetes' OpenAPI schema
// (kubernetes-models' generated validators) and against client-node's typed models (a field the
// API does not know would be dropped by the round trip), offline: no API server here.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
// not a public export of client-node: its generated (de)serializer, keyed by model type name
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import type { V1DaemonSet } from '@kubernetes/client-node';
import { runIg } from '../helpers/ig.js';
import { freePort } from '../helpers/registry.js';

const MODELS: Record<string, { model: new (d: never) => { validate(): void }; type: string }> = {
  'v1/Namespace': { model: Namespace as never, type: 'V1Namespace' },
  'v1/ServiceAccount': { model: ServiceAccount as never, type: 'V1ServiceAccount' },
  'rbac.authorization.k8s.io/v1/ClusterRole': { model: ClusterRole as never, type: 'V1ClusterRole' },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': { model: ClusterRoleBinding as never, type: 'V1ClusterRoleBinding' },
  'apps/v1/DaemonSet': { model: DaemonSet as never, type: 'V1DaemonSet' },
};

async function printed(args: string[]): Promise<Record<string, unknown>[]> {
  const r = await runIg(['deploy', '--image', 'registry.example.com/ig:0.1.0', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Record<string, unknown>);
}

describe('ig deploy and undeploy, without a cluster', () => {
  it('--print-only prints a namespace, ServiceAccount, ClusterRole, binding and DaemonSet that the OpenAPI schema accepts, with no unknown field', async () => {
    const docs = await printed(['--print-only']);
    expect(docs.map((d) => d.kind)).toEqual(['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'DaemonSet']);
    for (const d of docs) {
      const m = MODELS[`${d.apiVersion}/${d.kind}`];
      expect(m, `${d.apiVersion} ${d.kind}`).toBeDefined();
      expect(() => new m!.model(d as never).validate(), `${d.kind} against the schema`).not.toThrow();
      expect(ObjectSerializer.serialize(ObjectSerializer.deserialize(d, m!.type), m!.type), `${d.kind}: fields the API knows`).toEqual(d);
    }
  });

  it('-o json prints the same objects as one v1 List', async () => {
    const yamlDocs = await printed(['--print-only']);
    const r = await runIg(['deploy', '--image', 'registry.example.com/ig:0.1.0', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as { kind: string; items: unknown[] };
    expect(list.kind).toBe('List');
    expect(list.items).toEqual(yamlDocs);
  });

  it('runs the agent as the issue asks: hostPID, capabilities not privileged, node name, probes, the node\'s mounts', async () => {
    const ds = (await printed(['--print-only', '--node-selector', 'pool=tracing', '--image-pull-policy', 'IfNotPresent'])).find((d) => d.kind === 'DaemonSet') as unknown as V1DaemonSet;
    const pod = ds.spec!.template.spec!;
    const c = pod.containers[0]!;
    expect(pod.hostPID).toBe(true);
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', pool: 'tracing' });
    expect(pod.tolerations!.map((t) => `${t.operator}/${t.effect}`)).toEqual(['Exists/NoSchedule', 'Exists/NoExecute']);
    expect(c.image).toBe('registry.example.com/ig:0.1.0');
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.securityContext!.privileged).toBe(false);
    expect(c.securityContext!.capabilities!.drop).toEqual(['ALL']);
    expect(c.securityContext!.capabilities!.add).toEqual(['BPF', 'PERFMON', 'SYS_PTRACE', 'SYS_ADMIN']);
    expect(c.securityContext!.readOnlyRootFilesystem).toBe(true);
    expect(c.env!.find((e) => e.name === 'NODE_NAME')!.valueFrom!.fieldRef!.fieldPath).toBe('spec.nodeName');
    expect(c.resources!.requests).toBeDefined();
    expect(c.resources!.limits!.memory).toBeDefined();
    expect(c.livenessProbe!.httpGet!.path).toBe('/healthz');
    expect(c.readinessProbe!.httpGet!.path).toBe('/readyz');
    expect(c.args).toContain('--health-listen');
    expect(c.args!.join(' ')).toContain('unix:///run/ig/ig.socket');
    // and a plain listener on the pod's loopback only, for port-forward (ig run --k8s)
    expect(c.args!.join(' ')).toContain('--host tcp://127.0.0.1:8080 --tls-insecure');
    const hostPaths = Object.fromEntries(pod.volumes!.filter((v) => v.hostPath).map((v) => [v.hostPath!.path, c.volumeMounts!.find((m) => m.name === v.name)!.mountPath]));
    expect(hostPaths).toMatchObject({
      '/run': '/host/run', // containerd, cri-o, podman and docker sockets
      '/proc': '/host/proc',
      '/sys/kernel/debug': '/sys/kernel/debug',
      '/sys/kernel/tracing': '/sys/kernel/tracing',
      '/sys/fs/bpf': '/sys/fs/bpf',
      '/run/ig-agent': '/run/ig',
    });
  });

  it('refuses bad flags with a clear error and prints nothing', async () => {
    for (const [args, msg] of [
      [['--print-only'], /needs --image/],
      [['--image', 'x', '--print-only', '--capabilities', 'CAP_BPF'], /invalid capability "CAP_BPF"/],
      [['--image', 'x', '--print-only', '--node-selector', 'pool'], /--node-selector "pool" is not key=value/],
      [['--image', 'x', '--print-only', '--gadget-namespace', 'Bad_NS'], /invalid namespace "Bad_NS"/],
      [['--image', 'x', '--print-only', '--seccomp-profile', 'strict'], /invalid seccomp profile/],
    ] as const) {
      const r = await runIg(['deploy', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stdout).toBe('');
    }
  });

  it('an API server that does not answer is one clear error naming it, for deploy and undeploy', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ig-kubeconfig-'));
    try {
      const port = await freePort(); // nothing listens there
      const kubeconfig = path.join(dir, 'config');
      writeFileSync(kubeconfig, stringify({
        apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
        clusters: [{ name: 'k', cluster: { server: `https://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'u', user: { token: 't' } }],
        contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
      }));
      for (const args of [['deploy', '--image', 'x/ig:1'], ['undeploy']]) {
        const r = await runIg([...args, '--kubeconfig', kubeconfig]);
        expect(r.code, args[0]).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`^error: .*127\\.0\\.0\\.1:${port}.*ECONNREFUSED`, 'm'));
        expect(r.stderr).toMatch(/^hint: check that the API server in your kubeconfig is reachable/m);
      }
      const ctx = await runIg(['deploy', '--image', 'x/ig:1', '--kubeconfig', kubeconfig, '--context', 'other']);
      expect(ctx.code).toBe(2);
      expect(ctx.stderr).toMatch(/error: context "other" is not in .*\nhint: choose one of: c/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without a cluster configured, deploy says so instead of guessing localhost', async () => {
    const r = await runIg(['deploy', '--image', 'x'], { env: { ...process.env, KUBECONFIG: '', HOME: '/nonexistent', KUBERNETES_SERVICE_HOST: '' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: no Kubernetes cluster is configured/);
    expect(r.stderr).toMatch(/hint: .*--print-only/);
  });
});
