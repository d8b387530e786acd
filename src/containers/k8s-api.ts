/**
 * Kubernetes metadata from the API server, where one is reachable (a kubeconfig, or the agent's
 * in-cluster ServiceAccount): the pods of this node (one list+watch, field selector
 * spec.nodeName), their labels and real owner, and their namespace's labels. CRI labels only name
 * the pod; its owner there is a guess from label conventions (src/containers/k8s.ts), which this
 * replaces with what the API says. What it reads is exactly the agent's ClusterRole
 * (src/k8s/rbac.ts). Every failure degrades to the CRI labels with one warning, never to an error.
 */
import type { KubeConfig, V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import type { ContainerInfo } from './types.js';

export interface PodMetadata {
  labels: Record<string, string>;
  ownerKind: string;
  ownerName: string;
  namespaceLabels: Record<string, string>;
}

/** Owner kinds users name workloads by (IG's list), plus Node for static pods. */
const WORKLOAD_KINDS = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController', 'Node']);

/** The controller reference among workload kinds, else the first workload-kind reference. */
export function workloadOwner(refs: V1OwnerReference[] | undefined): V1OwnerReference | undefined {
  const known = (refs ?? []).filter((r) => WORKLOAD_KINDS.has(r.kind));
  return known.find((r) => r.controller) ?? known[0];
}

/** The owner references of a ReplicaSet or Job (the only workload kinds that have workload owners). */
export type OwnerLookup = (kind: 'ReplicaSet' | 'Job', namespace: string, name: string) => Promise<V1OwnerReference[] | undefined>;

/**
 * The highest workload owner, as IG reports it: a Deployment rather than its ReplicaSet, a
 * CronJob rather than its Job. A lookup that fails (RBAC, the object is gone) leaves the owner
 * one level down, which is still true.
 */
export async function topOwner(pod: V1Pod, lookup: OwnerLookup): Promise<{ kind: string; name: string }> {
  const ns = pod.metadata?.namespace ?? '';
  let ref = workloadOwner(pod.metadata?.ownerReferences);
  if (!ref) return { kind: '', name: '' };
  for (let depth = 0; depth < 4 && (ref.kind === 'ReplicaSet' || ref.kind === 'Job'); depth++) {
    let up: V1OwnerReference | undefined;
    try {
      up = workloadOwner(await lookup(ref.kind, ns, ref.name));
    } catch {
      break;
    }
    if (!up) break;
    ref = up;
  }
  return { kind: ref.kind, name: ref.name };
}

const RETRY_MS = 5000;
/**
 * Namespace labels are read again at most this often, and only when a pod of that namespace
 * changes: on 1,000 nodes with pods of 10 namespaces each that is at most ~17 GETs/s cluster-wide.
 */
const NAMESPACE_TTL_MS = 10 * 60_000;

/** Apply API metadata to a container's Kubernetes fields (in place: enrichment reads them at event time). */
export function applyPodMetadata(c: ContainerInfo, m: PodMetadata): void {
  if (!c.k8s) return;
  c.k8s.podLabels = m.labels;
  c.k8s.ownerKind = m.ownerKind;
  c.k8s.ownerName = m.ownerName;
  c.k8s.namespaceLabels = m.namespaceLabels;
}

/** The pods of one node as the API server sees them, kept current by a watch. */
export class KubeMetadata {
  private readonly byUid = new Map<string, PodMetadata>();
  private readonly namespaces = new Map<string, { labels: Record<string, string>; at: number }>();
  private readonly owners = new Map<string, Promise<V1OwnerReference[] | undefined>>();
  private readonly listeners = new Set<(uid: string) => void>();
  private stopped = false;
  private warned = false;
  private retry: NodeJS.Timeout | undefined;

  private constructor(
    private readonly kc: KubeConfig,
    private readonly node: string,
    private readonly warn: (msg: string) => void,
    private readonly api: typeof import('@kubernetes/client-node'),
  ) {}

  /** Start watching this node's pods; the first list arrives in the background. */
  static async open(kc: KubeConfig, node: string, warn: (msg: string) => void): Promise<KubeMetadata> {
    const k = new KubeMetadata(kc, node, warn, await import('@kubernetes/client-node'));
    k.watch();
    return k;
  }

  get(podUid: string): PodMetadata | undefined {
    return this.byUid.get(podUid);
  }

  /** Called with a pod's uid whenever its metadata arrives or changes. */
  onChange(cb: (uid: string) => void): void {
    this.listeners.add(cb);
  }

  close(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.listeners.clear();
    void this.informer?.stop();
  }

  private informer: { stop(): Promise<void> } | undefined;

  private failed(what: string, e: unknown): void {
    if (this.warned) return;
    this.warned = true;
    const err = e as { code?: number; statusCode?: number; message?: string };
    const code = err.code ?? err.statusCode;
    this.warn(`Kubernetes API: ${what} failed (${code ? `${code} ` : ''}${(err.message ?? String(e)).split('\n')[0]}); pod labels and owners come from CRI labels meanwhile`);
  }

  private watch(): void {
    const { CoreV1Api, ListWatch, Watch } = this.api;
    const core = this.kc.makeApiClient(CoreV1Api);
    const fieldSelector = `spec.nodeName=${this.node}`;
    const lw = new ListWatch<V1Pod>('/api/v1/pods', new Watch(this.kc), () => core.listPodForAllNamespaces({ fieldSelector }), false, undefined, fieldSelector);
    const update = (p: V1Pod) => void this.update(p);
    lw.on('add', update);
    lw.on('update', update);
    lw.on('delete', (p) => p.metadata?.uid && this.byUid.delete(p.metadata.uid));
    lw.on('error', (e) => {
      this.failed(`watching the pods of node ${this.node}`, e);
      if (!this.stopped) this.retry = setTimeout(() => void lw.start().catch((e2) => this.failed('listing pods', e2)), RETRY_MS).unref();
    });
    this.informer = lw;
    lw.start().catch((e) => {
      this.failed(`listing the pods of node ${this.node}`, e);
      if (!this.stopped) this.retry = setTimeout(() => this.watch(), RETRY_MS).unref();
    });
  }

  private async update(p: V1Pod): Promise<void> {
    const uid = p.metadata?.uid;
    const ns = p.metadata?.namespace;
    if (!uid || !ns) return;
    const [owner, namespaceLabels] = await Promise.all([topOwner(p, (kind, n, name) => this.ownersOf(kind, n, name)), this.namespaceLabels(ns)]);
    if (this.stopped) return;
    this.byUid.set(uid, { labels: p.metadata?.labels ?? {}, ownerKind: owner.kind, ownerName: owner.name, namespaceLabels });
    for (const cb of this.listeners) cb(uid);
  }

  /** A ReplicaSet's or Job's owners, fetched once per object (owners do not change). */
  private ownersOf(kind: 'ReplicaSet' | 'Job', ns: string, name: string): Promise<V1OwnerReference[] | undefined> {
    const key = `${kind}/${ns}/${name}`;
    let p = this.owners.get(key);
    if (!p) {
      const { AppsV1Api, BatchV1Api } = this.api;
      p = (kind === 'ReplicaSet'
        ? this.kc.makeApiClient(AppsV1Api).readNamespacedReplicaSet({ name, namespace: ns })
        : this.kc.makeApiClient(BatchV1Api).readNamespacedJob({ name, namespace: ns })
      ).then((o) => o.metadata?.ownerReferences, (e) => {
        this.owners.delete(key); // try again for the next pod
        this.failed(`reading ${kind.toLowerCase()} ${ns}/${name}`, e);
        throw e;
      });
      if (this.owners.size > 4096) this.owners.clear();
      this.owners.set(key, p);
    }
    return p;
  }

  private async namespaceLabels(ns: string): Promise<Record<string, string>> {
    const hit = this.namespaces.get(ns);
    if (hit && Date.now() - hit.at < NAMESPACE_TTL_MS) return hit.labels;
    try {
      const o = await this.kc.makeApiClient(this.api.CoreV1Api).readNamespace({ name: ns });
      const labels = o.metadata?.labels ?? {};
      this.namespaces.set(ns, { labels, at: Date.now() });
      return labels;
    } catch (e) {
      this.failed(`reading namespace ${ns}`, e);
      return hit?.labels ?? {};
    }
  }
}
