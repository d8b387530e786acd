/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gadget/gpu_bridge_maps.h - the gpu-ebpf-bridge's pinned maps, declared
 * (LIBBPF_PIN_BY_NAME) only for the ones a gadget asks for, by defining before
 * including this header:
 *   GPU_BRIDGE_WANT_META, GPU_BRIDGE_WANT_DEVICE, GPU_BRIDGE_WANT_PER_PID,
 *   GPU_BRIDGE_WANT_PER_PID_PER_DEVICE, or GPU_BRIDGE_WANT_ALL.
 * Include after <vmlinux.h> (or <linux/types.h>).
 *
 * Pinned by name means: loading reuses the bridge's map when one is pinned
 * under the runtime's pin path, else creates (and pins) an empty one.
 */
#ifndef __GADGET_GPU_BRIDGE_MAPS_H
#define __GADGET_GPU_BRIDGE_MAPS_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <gadget/gpu_types.h>

#ifdef GPU_BRIDGE_WANT_ALL
#define GPU_BRIDGE_WANT_META
#define GPU_BRIDGE_WANT_DEVICE
#define GPU_BRIDGE_WANT_PER_PID
#define GPU_BRIDGE_WANT_PER_PID_PER_DEVICE
#endif

#ifdef GPU_BRIDGE_WANT_META
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gpu_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gpu_meta SEC(".maps");

/* the bridge's state if its last update is at most stale_threshold_ms old
 * at now_boot_ns (a bpf_ktime_get_boot_ns() time), else NULL */
static __always_inline struct gpu_meta *gpu_meta_fresh(__u64 now_boot_ns,
						       __u64 stale_threshold_ms)
{
	__u32 zero = 0;
	struct gpu_meta *m = bpf_map_lookup_elem(&gpu_meta, &zero);

	if (!m || now_boot_ns - m->last_update_boottime_ns >
			  stale_threshold_ms * 1000000ULL)
		return (void *)0;
	return m;
}
#endif

#ifdef GPU_BRIDGE_WANT_DEVICE
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GPU_MAX_DEVICES);
	__type(key, __u32);
	__type(value, struct gpu_device_metrics);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gpu_device SEC(".maps");
#endif

#ifdef GPU_BRIDGE_WANT_PER_PID
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct gpu_pid_metrics_aggregated);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gpu_per_pid SEC(".maps");

/* tgid's record if it holds at least min_gpu_mem_bytes of GPU memory */
static __always_inline struct gpu_pid_metrics_aggregated *
gpu_pid_holder(__u32 tgid, __u64 min_gpu_mem_bytes)
{
	struct gpu_pid_metrics_aggregated *g = bpf_map_lookup_elem(&gpu_per_pid, &tgid);

	if (!g || g->used_gpu_memory_total < min_gpu_mem_bytes)
		return (void *)0;
	return g;
}
#endif

#ifdef GPU_BRIDGE_WANT_PER_PID_PER_DEVICE
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct gpu_pid_metrics);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gpu_per_pid_per_device SEC(".maps");
#endif

#endif /* __GADGET_GPU_BRIDGE_MAPS_H */
