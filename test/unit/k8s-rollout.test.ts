// `ig deploy --wait`: what each node's line says, from the DaemonSet and pod objects the API returns.
import { describe, expect, it } from 'vitest';
import type { V1DaemonSet, V1Pod } from '@kubernetes/client-node';
import { nodeStates, rolledOut } from '../../src/k8s/rollout.js';

const ds = (generation: number, status: Partial<NonNullable<V1DaemonSet['status']>>): V1DaemonSet => ({
  metadata: { generation },
  status: { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0, observedGeneration: generation, ...status },
});
const pod = (name: string, node: string | undefined, gen: number, status: V1Pod['status']): V1Pod => ({
  metadata: { name, labels: { 'pod-template-generation': String(gen) } },
  spec: { nodeName: node, containers: [] },
  status,
});
const ready = { conditions: [{ type: 'Ready', status: 'True' }] };

describe('rollout progress per node', () => {
  it('says ready, or why not in the runtime\'s own words', () => {
    const states = nodeStates(ds(2, {}), [
      pod('a', 'node-a', 2, ready),
      pod('b', 'node-b', 2, { containerStatuses: [{ name: 'agent', image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "r/ig:1"' } } }] }),
      pod('c', 'node-c', 2, { containerStatuses: [{ name: 'agent', image: '', imageID: '', ready: false, restartCount: 3, state: { terminated: { exitCode: 1, reason: 'Error' } } }] }),
      pod('d', undefined, 2, { conditions: [{ type: 'PodScheduled', status: 'False', message: '0/3 nodes are available' }] }),
    ]);
    expect(states.map((s) => `${s.node}: ${s.state}`)).toEqual([
      '(unscheduled): Pending: 0/3 nodes are available',
      'node-a: ready',
      'node-b: ImagePullBackOff: Back-off pulling image "r/ig:1"',
      'node-c: exited 1 (Error)',
    ]);
  });

  it('during an update, a node counts as ready only with the new generation\'s pod', () => {
    const old = pod('old', 'node-a', 1, ready);
    expect(nodeStates(ds(2, {}), [old])[0]).toMatchObject({ ready: false, state: 'updating (ready)' });
    expect(nodeStates(ds(2, {}), [old, pod('new', 'node-a', 2, ready)])[0]).toMatchObject({ ready: true, pod: 'new' });
  });

  it('is done when every wanted node runs this generation, ready', () => {
    expect(rolledOut(ds(2, { desiredNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3 }))).toBe(true);
    expect(rolledOut(ds(2, { desiredNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 2 }))).toBe(false);
    expect(rolledOut(ds(2, { desiredNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3, observedGeneration: 1 }))).toBe(false);
    expect(rolledOut(ds(2, { desiredNumberScheduled: 0 }))).toBe(false); // no node matches: nothing will ever be ready
  });
});
