/**
 * `ig deploy` / `ig undeploy` against a real API server: server-side apply of the manifests
 * (field manager "ig": re-running deploy updates in place, and fields other tools own are kept),
 * then, with --wait, one progress line per node until every node's agent is ready.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { IgError } from '../errors.js';
import { apiError } from './kubeconfig.js';
import { AGENT_NAME, AGENT_SELECTOR, MANAGED_BY, agentObjectRefs, manifestList, type AgentManifests } from './manifests.js';
import { nodeStates, rolledOut } from './rollout.js';

export interface Progress { line(text: string): void }

const selector = (labels: Record<string, string>) => Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
const describe = (o: KubernetesObject) => `${o.kind!.toLowerCase()}/${o.metadata!.name}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function applyManifests(kc: KubeConfig, m: AgentManifests, out: Progress): Promise<void> {
  const { KubernetesObjectApi, PatchStrategy } = await import('@kubernetes/client-node');
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const obj of manifestList(m)) {
    try {
      await api.patch(obj, undefined, undefined, 'ig', true, PatchStrategy.ServerSideApply);
    } catch (e) {
      throw apiError(`applying ${describe(obj)}`, e);
    }
    out.line(`${describe(obj)} applied`);
  }
}

/** Poll the DaemonSet and its pods (every second) until each node's agent is ready, or time out. */
export async function waitForAgents(kc: KubeConfig, namespace: string, timeoutSec: number, out: Progress): Promise<void> {
  const { AppsV1Api, CoreV1Api } = await import('@kubernetes/client-node');
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const shown = new Map<string, string>();
  const start = Date.now();
  const end = start + timeoutSec * 1000;
  for (;;) {
    let ds;
    let pods;
    try {
      ds = await apps.readNamespacedDaemonSet({ name: AGENT_NAME, namespace });
      pods = (await core.listNamespacedPod({ namespace, labelSelector: selector(AGENT_SELECTOR) })).items;
    } catch (e) {
      throw apiError(`reading the agent's DaemonSet in namespace ${namespace}`, e);
    }
    const states = nodeStates(ds, pods);
    for (const s of states) {
      if (shown.get(s.node) === s.state) continue;
      shown.set(s.node, s.state);
      out.line(`${s.node}: ${s.state}${s.pod ? ` (${s.pod})` : ''}`);
    }
    if (rolledOut(ds)) {
      out.line(`ig agent ready on ${ds.status!.numberReady}/${ds.status!.desiredNumberScheduled} node(s)`);
      return;
    }
    const observed = (ds.status?.observedGeneration ?? 0) >= (ds.metadata?.generation ?? 1);
    if (observed && ds.status?.desiredNumberScheduled === 0 && Date.now() - start > 5000) {
      throw new IgError('kubernetes', 'no node runs the agent: none matches its node selector and tolerations', {
        hint: `check --node-selector against \`kubectl get nodes --show-labels\` (the DaemonSet wants ${JSON.stringify(ds.spec?.template.spec?.nodeSelector ?? {})})`,
      });
    }
    if (Date.now() > end) {
      const want = ds.status?.desiredNumberScheduled ?? 0;
      const late = states.filter((s) => !s.ready);
      throw new IgError('kubernetes', `the agent is ready on ${ds.status?.numberReady ?? 0} of ${want} node(s) after ${timeoutSec} s${late.length ? `: ${late.map((s) => `${s.node} (${s.state})`).join(', ')}` : ''}`, {
        hint: `kubectl -n ${namespace} describe pods -l ${selector(AGENT_SELECTOR)}; a longer --timeout, or --no-wait`,
      });
    }
    await sleep(1000);
  }
}

/**
 * Delete what deploy made, the DaemonSet first (its pods get SIGTERM and release their kernel
 * objects), the namespace last and only when deploy created it (it carries our managed-by label).
 * Objects already gone are fine; with `wait`, return once no agent pod is left.
 */
export async function deleteAgent(kc: KubeConfig, ns: string, opts: { wait: boolean; timeoutSec: number }, out: Progress): Promise<void> {
  const { KubernetesObjectApi, CoreV1Api } = await import('@kubernetes/client-node');
  const api = KubernetesObjectApi.makeApiClient(kc);
  const core = kc.makeApiClient(CoreV1Api);
  for (const obj of agentObjectRefs(ns).reverse()) {
    if (obj.kind === 'Namespace') {
      try {
        const live = await core.readNamespace({ name: ns });
        if (live.metadata?.labels?.[Object.keys(MANAGED_BY)[0]!] !== Object.values(MANAGED_BY)[0]) {
          out.line(`namespace/${ns} kept (ig deploy did not create it)`);
          continue;
        }
      } catch (e) {
        if ((e as { code?: number }).code === 404) continue;
        throw apiError(`reading namespace/${ns}`, e);
      }
    }
    try {
      await api.delete(obj, undefined, undefined, undefined, undefined, 'Foreground');
      out.line(`${describe(obj)} deleted`);
    } catch (e) {
      if ((e as { code?: number }).code === 404) continue;
      throw apiError(`deleting ${describe(obj)}`, e);
    }
  }
  if (!opts.wait) return;
  const end = Date.now() + opts.timeoutSec * 1000;
  for (;;) {
    let left: number;
    try {
      left = (await core.listNamespacedPod({ namespace: ns, labelSelector: selector(AGENT_SELECTOR) })).items.length;
    } catch (e) {
      if ((e as { code?: number }).code === 404) return;
      throw apiError(`listing the agent's pods in namespace ${ns}`, e);
    }
    if (left === 0) {
      out.line('every agent pod is gone');
      return;
    }
    if (Date.now() > end) {
      throw new IgError('kubernetes', `${left} agent pod(s) still terminating after ${opts.timeoutSec} s`, { hint: `kubectl -n ${ns} get pods -l ${selector(AGENT_SELECTOR)}` });
    }
    await sleep(1000);
  }
}
