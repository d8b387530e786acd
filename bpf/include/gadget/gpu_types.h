/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gadget/gpu_types.h - layouts of the maps Inspektor Gadget's gpu-ebpf-bridge
 * pins under /sys/fs/bpf (ABI: these must match the bridge byte for byte).
 *
 *   gpu_meta                ARRAY[1]          struct gpu_meta
 *   gpu_device              ARRAY[16]         struct gpu_device_metrics
 *   gpu_per_pid             LRU_HASH[4096]    u32 tgid → struct gpu_pid_metrics_aggregated
 *   gpu_per_pid_per_device  LRU_HASH[4096]    u64 (pid << 32 | device) → struct gpu_pid_metrics
 *
 * ig ships no bridge: gadgets reading these maps find them empty (or the maps
 * a bridge pinned, when one runs). Read fields with CO-RE helpers so a newer
 * bridge with more fields still works.
 */
#ifndef __GADGET_GPU_TYPES_H
#define __GADGET_GPU_TYPES_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define GPU_SCHEMA_VERSION 1
#define GPU_MAX_DEVICES 16
/* gpu_pid_metrics_aggregated.gpu_device_primary of a process on several GPUs */
#define GPU_DEVICE_PRIMARY_MULTI 0xFF

/* bridge state; stale when last_update_boottime_ns is old */
struct gpu_meta {
	__u32 schema_version;
	__u32 n_devices;
	__u64 last_update_boottime_ns;
	__u32 helper_pid;
	__u32 _reserved;
	__s64 clock_offset_ns; /* CLOCK_REALTIME - CLOCK_BOOTTIME */
};

/* one GPU; a value the driver does not report is 0 */
struct gpu_device_metrics {
	__u64 timestamp_ns;
	__u32 sm_util_pct;
	__u32 mem_util_pct;
	__u64 mem_total;
	__u64 mem_used; /* excludes mem_reserved */
	__u64 mem_reserved;
	__u32 temp_c;
	__u32 power_mw;
	__u32 sm_clock_mhz;
	__u32 mem_clock_mhz;
	__u64 throttle_reasons;
	__u64 pcie_tx_kbps;
	__u64 pcie_rx_kbps;
	__u32 enc_util_pct;
	__u32 dec_util_pct;
	__u64 nvlink_tx_kbps;
	__u64 nvlink_rx_kbps;
	__u64 ecc_corrected_total;
	__u64 ecc_uncorrected_total;
	__u32 fan_speed_pct;
	__u32 compute_mode;
};

/* one process on one GPU */
struct gpu_pid_metrics {
	__u64 timestamp_ns;
	__u64 used_gpu_memory;
	__u32 sm_util_pct;
	__u32 mem_util_pct;
	__u32 enc_util_pct;
	__u32 dec_util_pct;
	__u8 gpu_device;
	__u8 mig_instance;
	__u16 _pad;
};

/* one process over all its GPUs (sums and maxima) */
struct gpu_pid_metrics_aggregated {
	__u64 timestamp_ns;
	__u64 used_gpu_memory_total;
	__u32 sm_util_pct_max;
	__u32 mem_util_pct_max;
	__u8 gpu_device_primary;
	__u8 device_count;
	__u16 _pad;
};

#endif /* __GADGET_GPU_TYPES_H */
