import { describe, expect, it } from 'vitest';
import { enrich, enrichmentFields, matches, parseSelector, type ContainerInfo } from '../../src/containers/index.js';
import { ownerOf, podLabelsFrom } from '../../src/containers/k8s.js';
import { IgError } from '../../src/errors.js';

const pod = (ns: string, pod: string, cname: string, labels: Record<string, string>): ContainerInfo => ({
  id: `${pod}-id`,
  name: cname,
  runtime: 'containerd',
  pid: 100,
  mntns: 4026532000n,
  netns: 4026531000,
  imageName: 'busybox',
  imageDigest: 'sha256:ab',
  startedAt: '2026-01-01T00:00:00.000Z',
  k8s: { namespace: ns, podName: pod, podUid: 'u', containerName: cname, podLabels: labels, ownerKind: '', ownerName: '' },
});
const plain: ContainerInfo = { id: 'p1', name: 'web1', runtime: 'podman', pid: 5, mntns: 1n, netns: 2, imageName: 'img', imageDigest: '', startedAt: '' };
const a = pod('ns1', 'pod-a', 'main', { app: 'x', tier: 'web' });
const b = pod('ns2', 'pod-b', 'side', { app: 'y' });

function sel(args: Record<string, unknown>) {
  const s = parseSelector(args);
  if (!s) throw new Error('expected a selector');
  return s;
}

function usageError(args: Record<string, unknown>): IgError {
  try {
    parseSelector(args);
  } catch (e) {
    expect(e).toBeInstanceOf(IgError);
    expect((e as IgError).code).toBe('usage');
    return e as IgError;
  }
  throw new Error('no error');
}

describe('parseSelector / matches', () => {
  it('no flags (or only --host) selects everything', () => {
    expect(parseSelector({})).toBeNull();
    expect(parseSelector({ host: true })).toBeNull();
  });
  it('pod name, namespace, container name, with ! exclusion', () => {
    const s = sel({ 'k8s-podname': 'pod-a' });
    expect([a, b, plain].map((c) => matches(c, s))).toEqual([true, false, false]);
    expect(matches(undefined, s)).toBe(false);
    const ex = sel({ 'k8s-podname': '!pod-a' });
    expect([a, b, plain].map((c) => matches(c, ex))).toEqual([false, true, true]);
    const ns = sel({ 'k8s-namespace': 'ns1,ns2' });
    expect([a, b, plain].map((c) => matches(c, ns))).toEqual([true, true, false]);
    const both = sel({ 'k8s-namespace': 'ns1,ns2', 'k8s-containername': '!side' });
    expect([a, b].map((c) => matches(c, both))).toEqual([true, false]);
  });
  it('-c matches runtime or Kubernetes container names; --host adds host events', () => {
    const s = sel({ containername: 'web1', host: true });
    expect([a, b, plain].map((c) => matches(c, s))).toEqual([false, false, true]);
    expect(matches(undefined, s)).toBe(true);
    expect(matches(a, sel({ containername: 'main' }))).toBe(true);
  });
  it('label selector: =, !=, !k=v, exists, !exists, repeated flags', () => {
    expect([a, b].map((c) => matches(c, sel({ 'k8s-selector': 'app=x' })))).toEqual([true, false]);
    expect([a, b].map((c) => matches(c, sel({ 'k8s-selector': 'app!=x' })))).toEqual([false, true]);
    expect([a, b].map((c) => matches(c, sel({ 'k8s-selector': '!app=x' })))).toEqual([false, true]);
    expect([a, b].map((c) => matches(c, sel({ 'k8s-selector': 'tier' })))).toEqual([true, false]);
    expect([a, b].map((c) => matches(c, sel({ 'k8s-selector': '!tier' })))).toEqual([false, true]);
    expect([a, b].map((c) => matches(c, sel({ 'k8s-selector': 'app=x,tier=web' })))).toEqual([true, false]);
    expect([a, b].map((c) => matches(c, sel({ 'k8s-selector': ['app=y'] })))).toEqual([false, true]);
    expect(matches(plain, sel({ 'k8s-selector': 'app=x' }))).toBe(false);
  });
  it('syntax errors name the bad part', () => {
    expect(usageError({ 'k8s-selector': 'app=x,,b=c' }).message).toMatch(/is empty/);
    expect(usageError({ 'k8s-selector': '=x' }).message).toMatch(/"=x" has no key/);
    expect(usageError({ 'k8s-selector': 'a b=c' }).message).toMatch(/"a b=c" has an invalid label key/);
    expect(usageError({ 'k8s-selector': '!a!=b' }).message).toMatch(/negates twice/);
    expect(usageError({ 'k8s-podname': 'a,!' }).message).toMatch(/empty name after "!"/);
    expect(usageError({ containername: 'a,,b' }).message).toMatch(/--containername "a,,b": empty name/);
    expect(usageError({ 'k8s-namespace': 'a!b' }).message).toMatch(/"a!b" is not a valid name/);
  });
});

describe('enrichment', () => {
  it('fills every field, empty for host events', () => {
    const e: Record<string, unknown> = {};
    enrich(e, a, 'node1');
    expect(e).toMatchObject({
      'k8s.node': 'node1',
      'k8s.namespace': 'ns1',
      'k8s.podName': 'pod-a',
      'k8s.containerName': 'main',
      'k8s.podLabels': 'app=x,tier=web',
      'runtime.containerName': 'main',
      'runtime.runtimeName': 'containerd',
      'runtime.containerId': 'pod-a-id',
      'runtime.containerPid': 100,
      'runtime.containerImageName': 'busybox',
      'runtime.containerImageDigest': 'sha256:ab',
      'runtime.containerStartedAt': '2026-01-01T00:00:00.000Z',
    });
    const h: Record<string, unknown> = {};
    enrich(h, undefined, 'node1');
    expect(h['k8s.podName']).toBe('');
    expect(h['runtime.containerName']).toBe('');
    expect(h['runtime.containerPid']).toBe(0);
    expect(Object.keys(h)).toHaveLength(14);
  });
  it('hides k8s.* without pods and runtime.* with pods', () => {
    const k = enrichmentFields(true);
    const r = enrichmentFields(false);
    expect(k.map((f) => f.name)).toEqual(r.map((f) => f.name));
    expect(k.filter((f) => f.name.startsWith('runtime.')).every((f) => f.hidden)).toBe(true);
    expect(k.filter((f) => !f.hidden).map((f) => f.name)).toEqual(['k8s.namespace', 'k8s.podName', 'k8s.containerName']);
    expect(r.filter((f) => f.name.startsWith('k8s.')).every((f) => f.hidden)).toBe(true);
    expect(r.filter((f) => !f.hidden).map((f) => f.name)).toEqual(['runtime.containerName']);
    expect(k.find((f) => f.name === 'runtime.containerPid')!.kind).toBe('number');
  });
  it('owner from controller labels; kubelet bookkeeping labels dropped', () => {
    expect(ownerOf('web-5d8f7c9b6-abcde', { 'pod-template-hash': '5d8f7c9b6' })).toEqual({ kind: 'ReplicaSet', name: 'web-5d8f7c9b6' });
    expect(ownerOf('db-0', { 'controller-revision-hash': 'x', 'statefulset.kubernetes.io/pod-name': 'db-0' })).toEqual({ kind: 'StatefulSet', name: 'db' });
    expect(ownerOf('agent-x7k2p', { 'controller-revision-hash': 'x', 'pod-template-generation': '1' })).toEqual({ kind: 'DaemonSet', name: 'agent' });
    expect(ownerOf('pi-abcde', { 'job-name': 'pi' })).toEqual({ kind: 'Job', name: 'pi' });
    expect(ownerOf('lonely', {})).toEqual({ kind: '', name: '' });
    expect(podLabelsFrom({ app: 'x', 'io.kubernetes.pod.name': 'a', 'io.kubernetes.pod.uid': 'u' })).toEqual({ app: 'x' });
  });
});
