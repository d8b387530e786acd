import { ContainerdClient } from '../containerd/client.js';
import { k8sFromContainerLabels } from '../k8s.js';
import { mntnsOf, netnsOf, processStartedAt } from '../ns.js';
import type { ContainerInfo } from '../types.js';
import type { RuntimeSource } from './source.js';

interface Cached { pid: number; mntns: bigint; netns: number; startedAt: string; digest: string }

/**
 * containerd's own API, for a namespace other than the CRI's (`--containerd-namespace`):
 * containers made by `ctr run`, nerdctl, … Running tasks give the pids.
 */
export class ContainerdNativeSource implements RuntimeSource {
  readonly runtime = 'containerd';
  private readonly client: ContainerdClient;
  private readonly cache = new Map<string, Cached>();

  constructor(readonly socket: string, readonly namespace: string) {
    this.client = new ContainerdClient(socket, namespace);
  }

  async connect(): Promise<void> {
    await this.client.listTasks();
  }

  async list(): Promise<ContainerInfo[]> {
    const tasks = (await this.client.listTasks()).filter((t) => t.status === 'RUNNING' && t.pid > 0);
    if (tasks.length === 0) {
      this.cache.clear();
      return [];
    }
    const containers = new Map((await this.client.listContainers()).map((c) => [c.id, c]));
    const out: ContainerInfo[] = [];
    const seen = new Set<string>();
    for (const t of tasks) {
      const c = containers.get(t.container_id || t.id); // List fills `id` with the container id
      if (!c) continue;
      const labels = c.labels ?? {};
      if (labels['io.cri-containerd.kind'] === 'sandbox') continue; // pause containers
      seen.add(c.id);
      let st = this.cache.get(c.id);
      if (st && (st.pid !== t.pid || mntnsOf(st.pid) !== st.mntns)) st = undefined;
      if (!st) {
        const mntns = mntnsOf(t.pid);
        const netns = netnsOf(t.pid);
        if (mntns === undefined || netns === undefined) continue;
        st = { pid: t.pid, mntns, netns, startedAt: processStartedAt(t.pid), digest: c.image ? await this.client.imageDigest(c.image) : '' };
        this.cache.set(c.id, st);
      }
      const info: ContainerInfo = {
        id: c.id,
        name: labels['nerdctl/name'] || labels['io.kubernetes.container.name'] || c.id,
        runtime: this.runtime,
        pid: st.pid,
        mntns: st.mntns,
        netns: st.netns,
        imageName: c.image,
        imageDigest: st.digest,
        startedAt: st.startedAt,
      };
      info.k8s = k8sFromContainerLabels(labels);
      out.push(info);
    }
    for (const id of this.cache.keys()) if (!seen.has(id)) this.cache.delete(id);
    return out;
  }

  close(): void {
    this.client.close();
  }
}
