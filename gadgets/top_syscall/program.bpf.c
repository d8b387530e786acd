// SPDX-License-Identifier: Apache-2.0
/* top_syscall: system calls per process and syscall (raw_syscalls/sys_enter). */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/mntns.h>
#include <gadget/types.h>

struct syscall_key {
	gadget_pid pid;
	gadget_comm comm[TASK_COMM_LEN];
	gadget_mntns_id mntns_id;
	gadget_syscall syscall_raw;
};

struct syscall_stat {
	__u64 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct syscall_key);
	__type(value, struct syscall_stat);
} syscalls SEC(".maps");

GADGET_MAPITER(syscalls, syscalls);

/*
 * Metrics (--metrics-listen, --otel-metrics-*): calls per command and system call since the
 * gadget started, never cleared (a Prometheus counter: ig_syscalls_total{comm, syscall}).
 */
struct syscall_label {
	gadget_comm comm[TASK_COMM_LEN];
	gadget_syscall syscall_raw;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct syscall_label);
	__type(value, __u64);
} counter_syscalls SEC(".maps");

SEC("tracepoint/raw_syscalls/sys_enter")
int ig_sys_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct syscall_key key = {};
	struct syscall_stat one = { .count = 1 }, *st;

	if (gadget_should_discard_data_current())
		return 0;
	key.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	key.mntns_id = gadget_get_current_mntns_id();
	key.syscall_raw = ctx->id;
	st = bpf_map_lookup_elem(&syscalls, &key);
	if (st)
		__sync_fetch_and_add(&st->count, 1);
	else
		bpf_map_update_elem(&syscalls, &key, &one, BPF_NOEXIST);

	struct syscall_label label = { .syscall_raw = ctx->id };
	__u64 first = 1, *total;

	__builtin_memcpy(label.comm, key.comm, sizeof(label.comm));
	total = bpf_map_lookup_elem(&counter_syscalls, &label);
	if (total)
		__sync_fetch_and_add(total, 1);
	else
		bpf_map_update_elem(&counter_syscalls, &label, &first, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
