/** Numbers from include/uapi/linux/bpf.h that the runtime reasons about. */
export const MapType = {
  HASH: 1, ARRAY: 2, PROG_ARRAY: 3, PERF_EVENT_ARRAY: 4, PERCPU_HASH: 5, PERCPU_ARRAY: 6, STACK_TRACE: 7,
  CGROUP_ARRAY: 8, LRU_HASH: 9, LRU_PERCPU_HASH: 10, LPM_TRIE: 11, ARRAY_OF_MAPS: 12, HASH_OF_MAPS: 13,
  RINGBUF: 27,
} as const;

export const PERCPU_MAPS: ReadonlySet<number> = new Set([MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_PERCPU_HASH]);
export const HASH_LIKE: ReadonlySet<number> = new Set([MapType.HASH, MapType.PERCPU_HASH, MapType.LRU_HASH, MapType.LRU_PERCPU_HASH]);
export const ARRAY_LIKE: ReadonlySet<number> = new Set([MapType.ARRAY, MapType.PERCPU_ARRAY]);

export const MAP_TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(MapType).map(([k, v]) => [v, k.toLowerCase()]),
);

export const ProgType = {
  UNSPEC: 0, SOCKET_FILTER: 1, KPROBE: 2, SCHED_CLS: 3, SCHED_ACT: 4, TRACEPOINT: 5, XDP: 6, PERF_EVENT: 7,
  CGROUP_SKB: 8, CGROUP_SOCK: 9, RAW_TRACEPOINT: 17, CGROUP_SOCK_ADDR: 18, TRACING: 26, EXT: 28, LSM: 29,
} as const;

/** enum bpf_attach_type values the runtime names. */
export const AttachType = {
  CGROUP_INET_INGRESS: 0, CGROUP_INET_EGRESS: 1, CGROUP_INET_SOCK_CREATE: 2, XDP: 37, TCX_INGRESS: 46, TCX_EGRESS: 47,
} as const;
