import { k8sFromContainerLabels } from '../k8s.js';
import { mntnsOf, netnsOf } from '../ns.js';
import type { ContainerInfo } from '../types.js';
import { follow, getJson } from './http.js';
import { digestOf, type RuntimeSource } from './source.js';

interface DockerListItem {
  Id: string;
  Names: string[] | null;
  Image: string;
  ImageID: string;
  State: string;
  Labels: Record<string, string> | null;
}
interface DockerInspect {
  State?: { Pid?: number; StartedAt?: string; Running?: boolean };
  Config?: { Image?: string };
}

interface Cached { pid: number; mntns: bigint; netns: number; startedAt: string }

/** Docker Engine API (also served by podman's compat API). */
export class DockerSource implements RuntimeSource {
  readonly runtime = 'docker';
  private readonly cache = new Map<string, Cached>();
  constructor(readonly socket: string) {}

  async connect(): Promise<void> {
    await getJson(this.socket, '/version');
  }

  async list(): Promise<ContainerInfo[]> {
    const items = (await getJson<DockerListItem[] | null>(this.socket, '/containers/json')) ?? [];
    const out: ContainerInfo[] = [];
    const seen = new Set<string>();
    for (const it of items) {
      if (it.State && it.State !== 'running') continue;
      const labels = it.Labels ?? {};
      // kubelet's dockershim sandboxes ("POD") are infrastructure, not workloads
      if (labels['io.kubernetes.docker.type'] === 'podsandbox') continue;
      seen.add(it.Id);
      let st = this.cache.get(it.Id);
      if (st && mntnsOf(st.pid) !== st.mntns) st = undefined;
      if (!st) {
        let ins: DockerInspect;
        try {
          ins = await getJson<DockerInspect>(this.socket, `/containers/${it.Id}/json`);
        } catch {
          continue;
        }
        const pid = ins.State?.Pid ?? 0;
        if (!pid) continue;
        const mntns = mntnsOf(pid);
        const netns = netnsOf(pid);
        if (mntns === undefined || netns === undefined) continue;
        const s = ins.State?.StartedAt ?? '';
        st = { pid, mntns, netns, startedAt: s.startsWith('0001') ? '' : s };
        this.cache.set(it.Id, st);
      }
      const name = (it.Names?.[0] ?? '').replace(/^\//, '');
      const info: ContainerInfo = {
        id: it.Id,
        name,
        runtime: this.runtime,
        pid: st.pid,
        mntns: st.mntns,
        netns: st.netns,
        imageName: it.Image,
        imageDigest: digestOf(it.ImageID),
        startedAt: st.startedAt,
      };
      const k8s = k8sFromContainerLabels(labels);
      if (k8s?.containerName) {
        info.k8s = k8s;
        info.name = k8s.containerName;
      }
      out.push(info);
    }
    for (const id of this.cache.keys()) if (!seen.has(id)) this.cache.delete(id);
    return out;
  }

  private cancelEvents: (() => void) | undefined;

  watch(changed: () => void): boolean {
    if (!this.cancelEvents) {
      this.cancelEvents = follow(this.socket, '/events?filters=' + encodeURIComponent(JSON.stringify({ type: ['container'] })), changed, () => {
        this.cancelEvents = undefined; // re-subscribed after the next successful poll
      });
    }
    return true;
  }

  close(): void {
    this.cancelEvents?.();
    this.cancelEvents = undefined;
  }
}
