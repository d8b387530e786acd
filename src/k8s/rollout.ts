/**
 * How far the agent's rollout is, node by node, from the DaemonSet and its pods as the API server
 * reports them (pure: `ig deploy --wait` feeds it each poll and prints what changed).
 */
import type { V1DaemonSet, V1Pod } from '@kubernetes/client-node';

export interface NodeState {
  node: string;
  pod: string;
  ready: boolean;
  /** what a user reads: "ready", "ContainerCreating", "ImagePullBackOff: …", "Pending: 0/3 nodes are available…" */
  state: string;
}

/** One pod's state in a word or two, with the runtime's reason when it has one. */
export function podState(p: V1Pod): { ready: boolean; state: string } {
  if (p.metadata?.deletionTimestamp) return { ready: false, state: 'Terminating' };
  const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  if (ready) return { ready, state: 'ready' };
  const cs = p.status?.containerStatuses?.[0];
  const waiting = cs?.state?.waiting;
  if (waiting?.reason) return { ready, state: waiting.message ? `${waiting.reason}: ${waiting.message.split('\n')[0]}` : waiting.reason };
  const term = cs?.state?.terminated;
  if (term) return { ready, state: `exited ${term.exitCode}${term.reason ? ` (${term.reason})` : ''}` };
  if (cs?.state?.running) return { ready, state: 'running, not ready yet (readiness probe /readyz)' };
  const unsched = p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unsched) return { ready, state: `Pending: ${unsched.message ?? unsched.reason ?? 'not scheduled'}` };
  return { ready, state: p.status?.phase ?? 'Pending' };
}

/** The current generation's pod on each node (older pods are on their way out during an update). */
export function nodeStates(ds: V1DaemonSet, pods: V1Pod[]): NodeState[] {
  const gen = String(ds.metadata?.generation ?? '');
  const byNode = new Map<string, NodeState>();
  for (const p of pods) {
    const node = p.spec?.nodeName ?? '(unscheduled)';
    const current = p.metadata?.labels?.['pod-template-generation'] === gen;
    const s = podState(p);
    const entry = { node, pod: p.metadata?.name ?? '', ...s };
    const prev = byNode.get(node);
    // prefer this generation's pod; among equals, the one that is ready
    if (!prev || (current && !prev.ready) || (current && s.ready)) byNode.set(node, current ? entry : { ...entry, ready: false, state: `updating (${s.state})` });
  }
  return [...byNode.values()].sort((a, b) => a.node.localeCompare(b.node));
}

/** Whether every node the DaemonSet wants has this generation's agent ready. */
export function rolledOut(ds: V1DaemonSet): boolean {
  const st = ds.status;
  if (!st || (st.observedGeneration ?? 0) < (ds.metadata?.generation ?? 0)) return false;
  const want = st.desiredNumberScheduled;
  return want > 0 && st.numberReady === want && (st.updatedNumberScheduled ?? 0) === want && !(st.numberUnavailable ?? 0);
}
