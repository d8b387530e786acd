// The agent's RBAC is pinned: a new permission must be a conscious change to this list.
import { describe, expect, it } from 'vitest';
import { AGENT_RULES } from '../../src/k8s/rbac.js';
import { agentManifests } from '../../src/k8s/manifests.js';

describe('the agent reads what it needs and nothing more', () => {
  it('has exactly these verbs on exactly these resources', () => {
    const granted = AGENT_RULES.flatMap((r) => r.resources!.flatMap((res) => r.apiGroups!.map((g) => `${g || 'core'}/${res}: ${[...r.verbs].sort().join(',')}`))).sort();
    expect(granted).toEqual([
      'apps/replicasets: get',
      'batch/jobs: get',
      'core/namespaces: get',
      'core/pods: list,watch',
    ]);
  });

  it('never writes, never reads secrets, never uses wildcards', () => {
    for (const r of AGENT_RULES) {
      for (const v of r.verbs) expect(['get', 'list', 'watch']).toContain(v);
      expect(r.resources).not.toContain('secrets');
      expect([...r.resources!, ...r.apiGroups!, ...r.verbs]).not.toContain('*');
      expect(r.resourceNames ?? []).toEqual([]);
      expect(r.nonResourceURLs ?? []).toEqual([]);
    }
  });

  it('binds that ClusterRole to the agent\'s ServiceAccount only, and the DaemonSet runs as it', () => {
    const m = agentManifests({ image: 'registry.example/ig:1', namespace: 'tracing' });
    expect(m.clusterRole.rules).toBe(AGENT_RULES);
    expect(m.clusterRoleBinding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: m.clusterRole.metadata!.name });
    expect(m.clusterRoleBinding.subjects).toEqual([{ kind: 'ServiceAccount', name: m.serviceAccount.metadata!.name, namespace: 'tracing' }]);
    expect(m.daemonSet.spec!.template.spec!.serviceAccountName).toBe(m.serviceAccount.metadata!.name);
  });
});
