import { CriClient, type CriContainer, type CriPodSandbox } from '../cri/client.js';
import { podLabelsFrom, ownerOf } from '../k8s.js';
import { mntnsOf, netnsOf } from '../ns.js';
import type { ContainerInfo } from '../types.js';
import { digestOf, nsToIso, type RuntimeSource } from './source.js';

interface Cached { pid: number; startedAt: string; mntns: bigint; netns: number }

/** containerd or cri-o through the CRI RuntimeService. */
export class CriSource implements RuntimeSource {
  private readonly client: CriClient;
  private readonly status = new Map<string, Cached>();
  private readonly pods = new Map<string, CriPodSandbox>();

  constructor(readonly runtime: string, readonly socket: string) {
    this.client = new CriClient(socket, 3000);
  }

  async connect(): Promise<void> {
    await this.client.version();
  }

  async list(): Promise<ContainerInfo[]> {
    const containers = await this.client.listRunningContainers();
    // Pods are listed only when a container names one we have not seen.
    if (containers.some((c) => !this.pods.has(c.pod_sandbox_id))) {
      this.pods.clear();
      for (const p of await this.client.listPodSandbox()) this.pods.set(p.id, p);
    }
    const out: ContainerInfo[] = [];
    const seen = new Set<string>();
    for (const c of containers) {
      seen.add(c.id);
      let st = this.status.get(c.id);
      if (st && mntnsOf(st.pid) !== st.mntns) st = undefined; // pid gone or reused
      if (!st) {
        let r;
        try {
          r = await this.client.containerStatus(c.id);
        } catch (e) {
          if ((e as { code?: number }).code === 5 /* NOT_FOUND */) continue;
          throw e;
        }
        if (!r.pid) continue;
        const mntns = mntnsOf(r.pid);
        const netns = netnsOf(r.pid);
        if (mntns === undefined || netns === undefined) continue; // exited meanwhile
        st = { pid: r.pid, startedAt: nsToIso(r.status?.started_at), mntns, netns };
        this.status.set(c.id, st);
      }
      out.push(this.info(c, st));
    }
    for (const id of this.status.keys()) if (!seen.has(id)) this.status.delete(id);
    return out;
  }

  private info(c: CriContainer, st: Cached): ContainerInfo {
    const pod = this.pods.get(c.pod_sandbox_id);
    const l = c.labels ?? {};
    const a = c.annotations ?? {};
    const pl = pod?.labels ?? {};
    const podName = l['io.kubernetes.pod.name'] || a['io.kubernetes.cri.sandbox-name'] || pod?.metadata?.name || '';
    const namespace = l['io.kubernetes.pod.namespace'] || a['io.kubernetes.cri.sandbox-namespace'] || pod?.metadata?.namespace || '';
    const podUid = l['io.kubernetes.pod.uid'] || a['io.kubernetes.cri.sandbox-uid'] || pod?.metadata?.uid || '';
    const containerName = l['io.kubernetes.container.name'] || a['io.kubernetes.cri.container-name'] || c.metadata?.name || '';
    const podLabels = podLabelsFrom(pl);
    const owner = ownerOf(podName, podLabels, pod?.annotations ?? {});
    const imageName = a['io.kubernetes.cri.image-name'] || c.image?.image || '';
    return {
      id: c.id,
      name: c.metadata?.name || containerName,
      runtime: this.runtime,
      pid: st.pid,
      mntns: st.mntns,
      netns: st.netns,
      imageName,
      imageDigest: digestOf(c.image_ref),
      startedAt: st.startedAt,
      k8s: { namespace, podName, podUid, containerName, podLabels, ownerKind: owner.kind, ownerName: owner.name },
    };
  }

  private cancelEvents: (() => void) | undefined;
  private eventsUnsupported = false;

  watch(changed: () => void): boolean {
    if (this.eventsUnsupported) return false;
    if (this.cancelEvents) return true;
    try {
      this.cancelEvents = this.client.containerEvents(changed, (err) => {
        this.cancelEvents = undefined;
        if (err?.code === 12 /* UNIMPLEMENTED */) this.eventsUnsupported = true;
        // otherwise the collection asks again after its next successful poll
      });
    } catch {
      this.eventsUnsupported = true;
      return false;
    }
    return true;
  }

  close(): void {
    this.cancelEvents?.();
    this.cancelEvents = undefined;
    this.client.close();
  }
}
