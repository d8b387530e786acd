import fs from 'node:fs';
import { IgError } from '../errors.js';
import { matches } from './selector.js';
import { hostNamespaces, mntnsOf, pidnsOf } from './ns.js';
import { onHost } from './host.js';
import { nodeName } from './enrich.js';
import { applyPodMetadata, KubeMetadata } from './k8s-api.js';
import { kubeConfigSource, loadKubeConfig } from '../k8s/kubeconfig.js';
import { ProcSource } from './sources/proc.js';
import type { RuntimeSource } from './sources/source.js';
import type { CollectionOptions, ContainerInfo, ContainerSelector, RuntimeProbe } from './types.js';

const KNOWN_RUNTIMES = ['docker', 'containerd', 'cri-o', 'podman'] as const;
type RuntimeName = (typeof KNOWN_RUNTIMES)[number];
/** Sources asked only when named in --runtimes (see sources/proc.ts). */
const OPT_IN_RUNTIMES = ['proc'] as const;
type SourceName = RuntimeName | (typeof OPT_IN_RUNTIMES)[number];

const DEFAULT_SOCKETS: Record<RuntimeName, string> = {
  docker: '/var/run/docker.sock',
  containerd: '/run/containerd/containerd.sock',
  'cri-o': '/run/crio/crio.sock',
  podman: '/run/podman/podman.sock',
};

const SOCKET_FLAG: Record<RuntimeName, string> = {
  docker: '--docker-socketpath',
  containerd: '--containerd-socketpath',
  'cri-o': '--crio-socketpath',
  podman: '--podman-socketpath',
};

/** Normalize and check a --runtimes list. */
export function parseRuntimes(v: string | string[] | undefined): SourceName[] {
  if (v === undefined) return [...KNOWN_RUNTIMES];
  const parts = (Array.isArray(v) ? v.join(',') : v)
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  const out: SourceName[] = [];
  const known: readonly string[] = [...KNOWN_RUNTIMES, ...OPT_IN_RUNTIMES];
  for (const p of parts) {
    const name = p === 'crio' ? 'cri-o' : p;
    if (!known.includes(name)) {
      throw new IgError('usage', `unknown container runtime "${p}" in --runtimes`, {
        hint: `choose from ${known.join(', ')} (comma separated)`,
      });
    }
    if (!out.includes(name as SourceName)) out.push(name as SourceName);
  }
  return out;
}

function socketFor(rt: RuntimeName, o: CollectionOptions): string {
  const given = { docker: o.dockerSocket, containerd: o.containerdSocket, 'cri-o': o.crioSocket, podman: o.podmanSocket }[rt];
  return given || onHost(DEFAULT_SOCKETS[rt]);
}

/** A runtime's client, loaded only when its socket exists (the gRPC ones cost ~100 ms to load). */
async function makeSource(rt: RuntimeName, socket: string, containerdNamespace: string): Promise<RuntimeSource> {
  switch (rt) {
    case 'containerd':
      // The CRI plugin serves exactly the "k8s.io" namespace; others need containerd's own API.
      if (containerdNamespace === 'k8s.io') return new (await import('./sources/cri.js')).CriSource(rt, socket);
      return new (await import('./sources/containerd.js')).ContainerdNativeSource(socket, containerdNamespace);
    case 'cri-o':
      return new (await import('./sources/cri.js')).CriSource(rt, socket);
    case 'podman':
      return new (await import('./sources/podman.js')).PodmanSource(socket);
    case 'docker':
      return new (await import('./sources/docker.js')).DockerSource(socket);
  }
}

function errText(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0]!;
}

interface SourceState {
  src: RuntimeSource;
  down: boolean;
  known: Map<string, ContainerInfo>;
}

/** What happened to a container: it started, it ended, or its metadata (pod labels) changed. */
export type ContainerChange = 'added' | 'removed' | 'updated';

const key = (c: ContainerInfo) => `${c.runtime}\u0000${c.id}`;

/**
 * The containers running on this node, kept current by polling every runtime
 * (1 s by default, or on demand with refresh()). Lookups by mount or network
 * namespace are Map hits.
 */
export class ContainerCollection {
  private readonly states: SourceState[];
  private readonly all = new Map<string, ContainerInfo>();
  private readonly mnt = new Map<bigint, ContainerInfo>();
  private net = new Map<number, ContainerInfo>();
  /** containers by pid namespace, for those with one of their own */
  private pid = new Map<number, ContainerInfo>();
  private readonly listeners = new Set<(kind: ContainerChange, c: ContainerInfo) => void>();
  private readonly hostNetns: number | undefined;
  private readonly hostMntns: bigint | undefined;
  private readonly hostPidns: number | undefined;
  /** unknown mount namespaces looked up recently (→ when they triggered a refresh) */
  private readonly misses = new Map<bigint | string, number>();
  private readonly warn: (msg: string) => void;
  private readonly interval: number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  /** pod metadata from the API server: started at the first Kubernetes container, when a cluster is configured */
  private kube: KubeMetadata | 'off' | 'starting' | undefined;
  /** what asking each runtime gave when the collection opened */
  probes: RuntimeProbe[] = [];

  private constructor(sources: RuntimeSource[], opts: CollectionOptions) {
    this.states = sources.map((src) => ({ src, down: false, known: new Map() }));
    const host = hostNamespaces();
    this.hostNetns = host.netns;
    this.hostMntns = host.mntns;
    this.hostPidns = host.pidns;
    this.warn = opts.warn ?? ((m) => process.stderr.write(`warning: ${m}\n`));
    this.interval = opts.pollIntervalMs ?? 1000;
    if (opts.kubernetesApi === false || (opts.kubernetesApi === undefined && !kubeConfigSource())) this.kube = 'off';
    for (const src of sources) {
      if (src instanceof ProcSource) {
        src.claimed = () => new Set([...this.all.values()].filter((c) => c.runtime !== 'proc').map((c) => c.mntns));
        src.claimedPidns = () => new Set([...this.all.values()].filter((c) => c.runtime !== 'proc' && c.pidns !== undefined).map((c) => c.pidns!));
      }
    }
  }

  /**
   * Connect to the runtimes and read their containers. A runtime whose default
   * socket is missing is skipped quietly; one whose socket the user named
   * (opts.explicit) and that cannot be reached is an IgError('container').
   */
  static async open(opts: CollectionOptions = {}): Promise<ContainerCollection> {
    const runtimes = opts.runtimes ? parseRuntimes(opts.runtimes) : [...KNOWN_RUNTIMES];
    const explicit = opts.explicit ?? new Set<string>();
    const warn = opts.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
    const sources: RuntimeSource[] = [];
    const probes: RuntimeProbe[] = [];
    try {
      for (const rt of runtimes) {
        if (rt === 'proc') continue; // added last, below: it takes what the runtimes leave
        const socket = socketFor(rt, opts);
        const named = explicit.has(rt);
        const hint = `check that ${rt} is running and that ${SOCKET_FLAG[rt]} names its API socket`;
        if (!fs.existsSync(socket)) {
          if (named) throw new IgError('container', `${rt} socket ${socket} does not exist`, { hint });
          probes.push({ runtime: rt, socket, reached: false, why: 'no such socket', flag: SOCKET_FLAG[rt] });
          continue;
        }
        const src = await makeSource(rt, socket, opts.containerdNamespace || 'k8s.io');
        try {
          await src.connect();
        } catch (e) {
          src.close();
          if (named) throw new IgError('container', `cannot reach ${rt} at ${socket}: ${errText(e)}`, { hint, cause: e });
          warn(`${rt} at ${socket} does not answer (${errText(e)}); ignoring it`);
          probes.push({ runtime: rt, socket, reached: false, why: errText(e), flag: SOCKET_FLAG[rt] });
          continue;
        }
        probes.push({ runtime: rt, socket, reached: true, flag: SOCKET_FLAG[rt] });
        sources.push(src);
      }
    } catch (e) {
      for (const s of sources) s.close();
      throw e;
    }
    if (runtimes.includes('proc')) sources.push(new ProcSource(hostNamespaces(), onHost('/proc')));
    const coll = new ContainerCollection(sources, opts);
    coll.probes = probes;
    await coll.refresh();
    coll.schedule();
    return coll;
  }

  /** The runtimes this collection reads (with their sockets). */
  runtimes(): { runtime: string; socket: string; answering: boolean }[] {
    return this.states.map((s) => ({ runtime: s.src.runtime, socket: s.src.socket, answering: !s.down }));
  }

  list(): ContainerInfo[] {
    return [...this.all.values()];
  }

  /** Containers passing a selector (null: all). */
  select(sel: ContainerSelector | null): ContainerInfo[] {
    return sel ? this.list().filter((c) => matches(c, sel)) : this.list();
  }

  /**
   * The container owning a mount namespace. A miss on a namespace that is not the
   * host's starts a refresh in the background (at most once per namespace every
   * 5 s), so a container whose first events arrive before the next poll is known
   * a moment later.
   */
  byMntns(id: bigint): ContainerInfo | undefined {
    const c = this.mnt.get(id);
    if (c || id === this.hostMntns) return c;
    this.missed(id);
    return undefined;
  }

  /** A namespace nobody owns yet: refresh in the background, at most once per namespace every 5 s. */
  private missed(key: bigint | string): void {
    if (this.closed) return;
    const now = Date.now();
    const t = this.misses.get(key);
    if (t === undefined || now - t > 5000) {
      if (this.misses.size > 4096) this.misses.clear();
      this.misses.set(key, now);
      this.refresh().catch(() => {});
    }
  }

  byNetns(id: number): ContainerInfo | undefined {
    return this.net.get(id);
  }

  /** The container whose own pid namespace this is (undefined for the host's, or one no container has). */
  byPidns(id: number): ContainerInfo | undefined {
    const c = this.pid.get(id);
    if (!c && id !== this.hostPidns) this.missed(`p${id}`);
    return c;
  }

  /** Whether pod metadata can come from an API server (a kubeconfig or an in-cluster account). */
  kubernetesConfigured(): boolean {
    return this.kube !== 'off';
  }

  hasKubernetes(): boolean {
    for (const c of this.all.values()) if (c.k8s) return true;
    return false;
  }

  onChange(cb: (kind: ContainerChange, c: ContainerInfo) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /**
   * Ask every runtime now. Concurrent calls share one pass that starts after
   * the call (so a container started before refresh() is seen when it resolves).
   */
  refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.queued) return this.queued;
    const after = this.running ?? Promise.resolve();
    const p = after.then(() => {
      this.queued = undefined;
      const r = this.pass();
      this.running = r;
      return r.finally(() => {
        if (this.running === r) this.running = undefined;
      });
    });
    this.queued = p;
    return p;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.listeners.clear();
    if (this.kube instanceof KubeMetadata) this.kube.close();
    for (const s of this.states) s.src.close();
    await this.running?.catch(() => {});
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refresh()
        .catch(() => {})
        .finally(() => this.schedule());
    }, this.interval);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    for (const st of this.states) {
      if (this.closed) return;
      let fresh: ContainerInfo[];
      try {
        fresh = await st.src.list();
      } catch (e) {
        if (this.closed) return;
        if (!st.down) {
          st.down = true;
          this.warn(
            `${st.src.runtime} at ${st.src.socket} stopped answering (${errText(e)}); keeping its ${st.known.size} last known container(s)`,
          );
        }
        // Without the runtime, drop only containers whose process is provably gone.
        for (const [k, c] of st.known) {
          if (mntnsOf(c.pid) !== c.mntns) this.remove(st, k, c);
        }
        continue;
      }
      st.down = false;
      if (!this.closed) st.src.watch?.(() => void this.refresh().catch(() => {}));
      const next = new Map(fresh.map((c) => [key(c), c]));
      for (const [k, c] of st.known) {
        const n = next.get(k);
        if (!n || n.pid !== c.pid || n.mntns !== c.mntns) this.remove(st, k, c);
      }
      for (const [k, c] of next) {
        const old = st.known.get(k);
        if (old) {
          // same process: keep the object, refresh metadata that may change (labels; the API
          // server's when it knows the pod — sandbox labels are frozen at pod creation)
          this.fromApi(c);
          if (c.k8s && old.k8s && labelsDiffer(old.k8s.podLabels, c.k8s.podLabels)) {
            old.k8s.podLabels = c.k8s.podLabels;
            this.emit('updated', old);
          }
          continue;
        }
        this.fromApi(c);
        this.add(st, k, c);
      }
    }
  }

  /** Overlay what the API server knows of the container's pod (labels, owner); start asking at the first pod. */
  private fromApi(c: ContainerInfo): void {
    if (!c.k8s || this.kube === 'off' || this.closed) return;
    if (this.kube instanceof KubeMetadata) {
      const m = this.kube.get(c.k8s.podUid);
      if (m) applyPodMetadata(c, m);
      return;
    }
    if (this.kube === 'starting') return;
    this.kube = 'starting';
    void (async () => {
      try {
        const kube = await KubeMetadata.open(await loadKubeConfig(), nodeName(), this.warn);
        if (this.closed) return kube.close();
        kube.onChange((uid) => {
          for (const o of this.all.values()) {
            if (o.k8s?.podUid !== uid) continue;
            applyPodMetadata(o, kube.get(uid)!);
            this.emit('updated', o);
          }
        });
        this.kube = kube;
      } catch (e) {
        this.kube = 'off';
        this.warn(`Kubernetes API: ${errText(e)}; pod labels and owners come from CRI labels`);
      }
    })();
  }

  private add(st: SourceState, k: string, c: ContainerInfo): void {
    st.known.set(k, c);
    this.all.set(k, c);
    // a "container" sharing the host's mount namespace (a pid namespace of its own only) is found by that pid namespace
    if (c.mntns !== this.hostMntns) this.mnt.set(c.mntns, c);
    if (c.netns !== this.hostNetns && !this.net.has(c.netns)) this.net.set(c.netns, c);
    c.pidns ??= pidnsOf(c.pid);
    if (c.pidns !== undefined && c.pidns !== this.hostPidns && !this.pid.has(c.pidns)) this.pid.set(c.pidns, c);
    this.emit('added', c);
  }

  private remove(st: SourceState, k: string, c: ContainerInfo): void {
    st.known.delete(k);
    this.all.delete(k);
    if (this.mnt.get(c.mntns) === c) this.mnt.delete(c.mntns);
    if (c.pidns !== undefined && this.pid.get(c.pidns) === c) this.pid.delete(c.pidns);
    if (this.net.get(c.netns) === c) {
      this.net.delete(c.netns);
      for (const o of this.all.values()) {
        if (o.netns === c.netns) {
          this.net.set(o.netns, o);
          break;
        }
      }
    }
    this.emit('removed', c);
  }

  private emit(kind: ContainerChange, c: ContainerInfo): void {
    for (const cb of [...this.listeners]) {
      try {
        cb(kind, c);
      } catch (e) {
        this.warn(`container ${kind} handler failed: ${errText(e)}`);
      }
    }
  }
}

function labelsDiffer(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length !== Object.keys(b).length || ka.some((k) => a[k] !== b[k]);
}
