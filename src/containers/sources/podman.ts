import { mntnsOf, netnsOf } from '../ns.js';
import type { ContainerInfo } from '../types.js';
import { follow, getJson } from './http.js';
import { digestOf, type RuntimeSource } from './source.js';

interface LibpodListItem {
  Id: string;
  Names: string[] | null;
  Image: string;
  ImageID: string;
  Pid: number;
  State: string;
  StartedAt: number;
  Labels: Record<string, string> | null;
}
interface LibpodInspect {
  ImageDigest?: string;
  ImageName?: string;
  State?: { Pid?: number; StartedAt?: string };
}

interface Cached { pid: number; mntns: bigint; netns: number; digest: string; startedAt: string }

/** podman through its libpod REST API (`podman system service`). */
export class PodmanSource implements RuntimeSource {
  readonly runtime = 'podman';
  private readonly cache = new Map<string, Cached>();
  constructor(readonly socket: string) {}

  async connect(): Promise<void> {
    await getJson(this.socket, '/v4.0.0/libpod/info');
  }

  async list(): Promise<ContainerInfo[]> {
    const items = (await getJson<LibpodListItem[] | null>(this.socket, '/v4.0.0/libpod/containers/json')) ?? [];
    const out: ContainerInfo[] = [];
    const seen = new Set<string>();
    for (const it of items) {
      if (it.State !== 'running' || !it.Pid) continue;
      seen.add(it.Id);
      let st = this.cache.get(it.Id);
      if (st && (st.pid !== it.Pid || mntnsOf(st.pid) !== st.mntns)) st = undefined;
      if (!st) {
        const mntns = mntnsOf(it.Pid);
        const netns = netnsOf(it.Pid);
        if (mntns === undefined || netns === undefined) continue;
        let digest = '';
        let startedAt = it.StartedAt > 0 ? new Date(it.StartedAt * 1000).toISOString() : '';
        try {
          const ins = await getJson<LibpodInspect>(this.socket, `/v4.0.0/libpod/containers/${it.Id}/json`);
          digest = digestOf(ins.ImageDigest);
          if (ins.State?.StartedAt && !ins.State.StartedAt.startsWith('0001')) startedAt = ins.State.StartedAt;
        } catch {
          /* removed meanwhile: use what the list said */
        }
        st = { pid: it.Pid, mntns, netns, digest, startedAt };
        this.cache.set(it.Id, st);
      }
      out.push({
        id: it.Id,
        name: it.Names?.[0] ?? '',
        runtime: this.runtime,
        pid: st.pid,
        mntns: st.mntns,
        netns: st.netns,
        imageName: it.Image,
        imageDigest: st.digest || digestOf(it.ImageID),
        startedAt: st.startedAt,
      });
    }
    for (const id of this.cache.keys()) if (!seen.has(id)) this.cache.delete(id);
    return out;
  }

  private cancelEvents: (() => void) | undefined;

  watch(changed: () => void): boolean {
    if (!this.cancelEvents) {
      this.cancelEvents = follow(this.socket, '/v4.0.0/libpod/events?stream=true&filters=' + encodeURIComponent(JSON.stringify({ type: ['container'] })), changed, () => {
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
