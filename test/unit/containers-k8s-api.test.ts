// Owner resolution from the API server's objects: the workload a user named, not its ReplicaSet.
// The lookups are plain tables of owner references here (the walk is what is tested; reading
// objects from a real API server is the cluster test's job, test/k8s/cluster.test.ts).
import { describe, expect, it } from 'vitest';
import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { topOwner, workloadOwner, type OwnerLookup } from '../../src/containers/k8s-api.js';

const ref = (kind: string, name: string, controller = true): V1OwnerReference => ({ apiVersion: 'v1', kind, name, uid: `${kind}-${name}`, controller });
const pod = (...owners: V1OwnerReference[]): V1Pod => ({ metadata: { name: 'p', namespace: 'shop', ownerReferences: owners } });

function lookupFrom(table: Record<string, V1OwnerReference[] | Error>): OwnerLookup & { asked: string[] } {
  const asked: string[] = [];
  const f = async (kind: string, ns: string, name: string) => {
    asked.push(`${kind} ${ns}/${name}`);
    const v = table[`${kind}/${name}`];
    if (v instanceof Error) throw v;
    return v;
  };
  return Object.assign(f, { asked });
}

describe('the owner ig reports for a pod', () => {
  it('is the Deployment behind a ReplicaSet, read from the ReplicaSet in the pod\'s namespace', async () => {
    const look = lookupFrom({ 'ReplicaSet/web-5d8f7': [ref('Deployment', 'web')] });
    expect(await topOwner(pod(ref('ReplicaSet', 'web-5d8f7')), look)).toEqual({ kind: 'Deployment', name: 'web' });
    expect(look.asked).toEqual(['ReplicaSet shop/web-5d8f7']);
  });

  it('is the CronJob behind a Job, and the Job when it has no owner', async () => {
    const look = lookupFrom({ 'Job/backup-2891': [ref('CronJob', 'backup')], 'Job/once': [] });
    expect(await topOwner(pod(ref('Job', 'backup-2891')), look)).toEqual({ kind: 'CronJob', name: 'backup' });
    expect(await topOwner(pod(ref('Job', 'once')), look)).toEqual({ kind: 'Job', name: 'once' });
  });

  it('stays one level down when the lookup is refused (RBAC, object gone)', async () => {
    const look = lookupFrom({ 'ReplicaSet/web-5d8f7': Object.assign(new Error('forbidden'), { code: 403 }) });
    expect(await topOwner(pod(ref('ReplicaSet', 'web-5d8f7')), look)).toEqual({ kind: 'ReplicaSet', name: 'web-5d8f7' });
  });

  it('asks nothing for owners that have no workload owner (DaemonSet, StatefulSet, Node for static pods)', async () => {
    const look = lookupFrom({});
    expect(await topOwner(pod(ref('DaemonSet', 'ig-agent')), look)).toEqual({ kind: 'DaemonSet', name: 'ig-agent' });
    expect(await topOwner(pod(ref('Node', 'node-1')), look)).toEqual({ kind: 'Node', name: 'node-1' });
    expect(await topOwner(pod(), look)).toEqual({ kind: '', name: '' });
    expect(look.asked).toEqual([]);
  });

  it('prefers the controller reference among workload kinds, and ignores kinds that are not workloads', () => {
    expect(workloadOwner([ref('ConfigMap', 'x', true), ref('ReplicaSet', 'a', false), ref('StatefulSet', 'b', true)])).toMatchObject({ kind: 'StatefulSet', name: 'b' });
    expect(workloadOwner([ref('MyOperatorThing', 'x', true), ref('ReplicaSet', 'a', false)])).toMatchObject({ kind: 'ReplicaSet', name: 'a' });
    expect(workloadOwner([ref('MyOperatorThing', 'x', true)])).toBeUndefined();
  });
});
