/** What ig knows about one running container on this node. */
export interface ContainerInfo {
  /** runtime's container id (full) */
  id: string;
  /** runtime's container name (for CRI containers: the Kubernetes container name) */
  name: string;
  /** "containerd", "cri-o", "podman", "docker" */
  runtime: string;
  /** host pid of the container's first process */
  pid: number;
  /** inode of /proc/PID/ns/mnt */
  mntns: bigint;
  /** inode of /proc/PID/ns/net */
  netns: number;
  /** inode of /proc/PID/ns/pid (set by the collection when the container has a pid namespace of its own) */
  pidns?: number;
  imageName: string;
  imageDigest: string;
  /** RFC 3339 start time ('' when unknown) */
  startedAt: string;
  k8s?: {
    namespace: string;
    podName: string;
    podUid: string;
    containerName: string;
    podLabels: Record<string, string>;
    ownerKind: string;
    ownerName: string;
    /** from the API server only (CRI labels do not carry them); for selection, not an event field */
    namespaceLabels?: Record<string, string>;
  };
}

/** One comma list flag: names to include (empty = any) and names to exclude (`!name`). */
export interface NameFilter {
  include: string[];
  exclude: string[];
}

/** A label requirement from --k8s-selector. */
export interface LabelRequirement {
  key: string;
  /** '=' value must equal, '!=' value must differ (or label absent), 'exists', '!exists' */
  op: '=' | '!=' | 'exists' | '!exists';
  value: string;
}

/**
 * Which containers (and whether the host) a run looks at. Every present filter
 * must match (AND); within one flag, includes are OR-ed and excludes win.
 */
export interface ContainerSelector {
  /** -c/--containername: runtime container name or Kubernetes container name */
  containerName?: NameFilter;
  k8sNamespace?: NameFilter;
  k8sPodName?: NameFilter;
  k8sContainerName?: NameFilter;
  /** --k8s-selector: all requirements must hold */
  labels?: LabelRequirement[];
  /** --host: also events from outside any container */
  host: boolean;
}

/** What asking one runtime gave, for the user: reached, or why not. */
export interface RuntimeProbe {
  runtime: string;
  socket: string;
  reached: boolean;
  /** why not: "no such socket", the connection's error */
  why?: string;
  /** the flag naming its socket (--podman-socketpath) */
  flag: string;
}

export interface CollectionOptions {
  /** runtimes to ask (default all: docker, containerd, cri-o, podman) */
  runtimes?: string[];
  containerdSocket?: string;
  containerdNamespace?: string;
  crioSocket?: string;
  podmanSocket?: string;
  dockerSocket?: string;
  /** which runtimes' sockets were named by the user ("containerd", "podman", ...): failing to reach one is an error */
  explicit?: Set<string>;
  /** the user named the runtimes (-r): say which of them cannot be reached */
  runtimesNamed?: boolean;
  /** poll period in ms (default 1000) */
  pollIntervalMs?: number;
  /** where warnings go (default: `warning: …` on stderr) */
  warn?: (msg: string) => void;
  /**
   * Ask the API server for pod labels, owners and namespace labels once a Kubernetes container
   * shows up (default: when a kubeconfig or in-cluster config exists; false: CRI labels only)
   */
  kubernetesApi?: boolean;
}
