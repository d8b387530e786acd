/**
 * Finding the node agents of a cluster run (`ig run --k8s`): the pods of the agent DaemonSet, by
 * its label selector, one per node, ready ones only; `--node` keeps some nodes. A node asked for
 * that has no ready agent is an error naming it, not a silent gap in the output.
 */
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { IgError } from '../errors.js';
import { apiError } from './kubeconfig.js';
import { AGENT_SELECTOR, DEFAULT_NAMESPACE } from './manifests.js';
import { podState } from './rollout.js';

export interface Agent { node: string; pod: string; namespace: string }

const selector = Object.entries(AGENT_SELECTOR).map(([k, v]) => `${k}=${v}`).join(',');

/** The agents to run on, from the listed agent pods (pure, for tests). */
export function chooseAgents(pods: V1Pod[], namespace: string, nodes?: string[]): Agent[] {
  const byNode = new Map<string, { agent: Agent; ready: boolean; state: string }>();
  for (const p of pods) {
    const node = p.spec?.nodeName;
    if (!node) continue;
    const s = podState(p);
    const prev = byNode.get(node);
    if (!prev || (s.ready && !prev.ready)) byNode.set(node, { agent: { node, pod: p.metadata?.name ?? '', namespace }, ready: s.ready, state: s.state });
  }
  const wanted = nodes?.length ? nodes : [...byNode.keys()].sort();
  if (wanted.length === 0) {
    throw new IgError('kubernetes', `no ig agent runs in namespace ${namespace}`, { hint: 'deploy the agents with `ig deploy --image …` (or name their namespace with --gadget-namespace)' });
  }
  const missing = wanted.filter((n) => !byNode.has(n));
  if (missing.length) {
    throw new IgError('kubernetes', `no ig agent on node${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, {
      hint: byNode.size ? `agents run on: ${[...byNode.keys()].sort().join(', ')}` : 'deploy the agents with `ig deploy --image …`',
    });
  }
  const unready = wanted.map((n) => byNode.get(n)!).filter((a) => !a.ready);
  if (unready.length) {
    throw new IgError('kubernetes', `the ig agent is not ready on ${unready.map((a) => `${a.agent.node} (${a.agent.pod}: ${a.state})`).join(', ')}`, {
      hint: nodes?.length ? 'wait for it, or leave that node out of --node' : 'wait for it (ig deploy waits), or choose the ready nodes with --node',
    });
  }
  return wanted.map((n) => byNode.get(n)!.agent);
}

export async function findAgents(kc: KubeConfig, namespace = DEFAULT_NAMESPACE, nodes?: string[]): Promise<Agent[]> {
  const { CoreV1Api } = await import('@kubernetes/client-node');
  let pods: V1Pod[];
  try {
    pods = (await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace, labelSelector: selector })).items;
  } catch (e) {
    throw apiError(`cannot list the ig agents in namespace ${namespace}`, e);
  }
  return chooseAgents(pods, namespace, nodes);
}
