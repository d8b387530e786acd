/**
 * `ig run IMAGE --k8s`: the gadget runs on the ig agent of every node (or of --node), found
 * through the API server and reached through it by port-forward (spec/kubernetes.md). Each agent
 * gets a local unix socket whose connections become port-forward streams to its loopback gRPC
 * port; the remote client then runs on those sockets as on any --remote-address list, merging
 * the nodes' events. The selection (-n/-A, -p, -l, -c, -F, params) is pushed to every agent,
 * which filters in its kernel. `--k8s` rather than kubectl-gadget's separate binary: one `ig`,
 * one flag to say "on the cluster", beside --remote-address ("on these daemons").
 */
import path from 'node:path';
import { IgError } from '../../errors.js';
import type { RunConfig } from '../../engine/config.js';
import { loadKubeConfig } from '../../k8s/kubeconfig.js';
import { findAgents } from '../../k8s/agents.js';
import { AGENT_GRPC_PORT, DEFAULT_NAMESPACE } from '../../k8s/manifests.js';
import { podPortOpener, relayFolder, relayUnixSocket, type LocalRelay } from '../../k8s/port-forward.js';
import { runRemoteFromArgv } from './remote.js';

const list = (v: unknown) => (v === undefined ? undefined : String(v).split(',').map((s) => s.trim()).filter(Boolean));

/**
 * What a cluster run selects, as kubectl gadget does: the context's namespace unless -n or -A,
 * -c naming the Kubernetes container; and the node column shown.
 */
export function clusterConfig(cfg: RunConfig, o: { allNamespaces: boolean; contextNamespace?: string }): RunConfig {
  const s = { ...cfg.selection };
  if (s.containername !== undefined && s['k8s-containername'] === undefined) {
    s['k8s-containername'] = s.containername;
    delete s.containername;
  }
  if (o.allNamespaces) {
    if (s['k8s-namespace'] !== undefined) throw new IgError('usage', '-A (all namespaces) and -n name the namespaces twice', { hint: 'give one of them' });
  } else s['k8s-namespace'] ??= o.contextNamespace || 'default';
  const fields = cfg.fields ?? (cfg.output === 'columns' ? '+k8s.node' : undefined);
  return { ...cfg, selection: s, fields };
}

export async function runOnCluster(image: string, argv: string[], first: Record<string, unknown>, stop: AbortSignal): Promise<void> {
  if (first['remote-address']) throw new IgError('usage', '--k8s finds the agents itself: leave --remote-address out');
  if (first.detach) throw new IgError('usage', '--detach is not available with --k8s yet', { hint: 'create the instance on each agent with --remote-address' });
  const kc = await loadKubeConfig({ kubeconfig: first.kubeconfig as string | undefined, context: first.context as string | undefined });
  const agents = await findAgents(kc, (first['gadget-namespace'] as string | undefined) ?? DEFAULT_NAMESPACE, list(first.node));
  const folder = relayFolder();
  const relays: LocalRelay[] = [];
  const failures: unknown[] = [];
  try {
    for (const [i, a] of agents.entries()) {
      relays.push(await relayUnixSocket(path.join(folder.dir, `${i}.sock`), await podPortOpener(kc, a.namespace, a.pod, AGENT_GRPC_PORT), (e) => failures.push(e)));
    }
    const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
    await runRemoteFromArgv(image, argv, { ...first, 'remote-address': relays.map((r) => r.address).join(',') }, stop,
      (cfg) => clusterConfig(cfg, { allNamespaces: first['all-namespaces'] === true, contextNamespace }));
  } catch (e) {
    // a relay that could not open its stream says why better than "cannot reach unix:///tmp/…"
    throw failures[0] ?? e;
  } finally {
    await Promise.allSettled(relays.map((r) => r.close()));
    folder.remove();
  }
}
