import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { chooseAgents } from '../../src/k8s/agents.js';
import { clusterConfig } from '../../src/cli/run/k8s.js';
import { runConfig } from '../../src/engine/config.js';

const pod = (name: string, node: string, ready: boolean, waiting?: string): V1Pod => ({
  metadata: { name },
  spec: { nodeName: node, containers: [] },
  status: {
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    containerStatuses: waiting ? [{ name: 'agent', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: waiting } } }] : [],
  },
});

describe('ig run --k8s: which agents', () => {
  const pods = [pod('ig-agent-b', 'node-b', true), pod('ig-agent-a', 'node-a', true), pod('ig-agent-c', 'node-c', false, 'ImagePullBackOff')];

  it('takes the agent of every node asked for, in node order', () => {
    expect(chooseAgents(pods.slice(0, 2), 'ig')).toEqual([
      { node: 'node-a', pod: 'ig-agent-a', namespace: 'ig' },
      { node: 'node-b', pod: 'ig-agent-b', namespace: 'ig' },
    ]);
    expect(chooseAgents(pods, 'ig', ['node-b']).map((a) => a.pod)).toEqual(['ig-agent-b']);
  });

  it('prefers a ready pod when a node has two (an update in progress)', () => {
    expect(chooseAgents([pod('old', 'node-a', false, 'Terminating'), pod('new', 'node-a', true)], 'ig')[0]!.pod).toBe('new');
  });

  it('names the nodes it cannot serve instead of leaving them out', () => {
    expect(() => chooseAgents(pods, 'ig')).toThrow(/^the ig agent is not ready on node-c \(ig-agent-c: ImagePullBackOff\)$/);
    expect(() => chooseAgents(pods, 'ig', ['node-x', 'node-a'])).toThrow(/^no ig agent on node node-x$/);
    expect(() => chooseAgents([], 'ig')).toThrow(/^no ig agent runs in namespace ig$/);
  });
});

describe('ig run --k8s: what each agent is asked to select', () => {
  const cfg = (o: Parameters<typeof runConfig>[0]) => runConfig(o);

  it('is the context\'s namespace unless -n or -A, with -c naming the Kubernetes container, and the node column shown', () => {
    const c = clusterConfig(cfg({ image: 'trace_open', selection: { containername: 'web' } }), { allNamespaces: false, contextNamespace: 'shop' });
    expect(c.selection).toEqual({ 'k8s-namespace': 'shop', 'k8s-containername': 'web' });
    expect(c.fields).toBe('+k8s.node');
    expect(clusterConfig(cfg({ image: 'trace_open' }), { allNamespaces: false }).selection['k8s-namespace']).toBe('default');
    expect(clusterConfig(cfg({ image: 'trace_open', selection: { 'k8s-namespace': 'a,b' } }), { allNamespaces: false }).selection['k8s-namespace']).toBe('a,b');
    expect(clusterConfig(cfg({ image: 'trace_open' }), { allNamespaces: true }).selection['k8s-namespace']).toBeUndefined();
    expect(clusterConfig(cfg({ image: 'trace_open', output: 'json' }), { allNamespaces: true }).fields).toBeUndefined();
    expect(clusterConfig(cfg({ image: 'trace_open', fields: 'pid' }), { allNamespaces: true }).fields).toBe('pid');
    expect(() => clusterConfig(cfg({ image: 'trace_open', selection: { 'k8s-namespace': 'a' } }), { allNamespaces: true })).toThrow(/-A \(all namespaces\) and -n/);
  });
});
