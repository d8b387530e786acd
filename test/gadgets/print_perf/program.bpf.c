// SPDX-License-Identifier: Apache-2.0
/* Map-name convention, perf buffer: PERF_EVENT_ARRAY `print_events` typed
 * with __type(value, struct event) (the loader sets key/value size to 4).
 * One event per getcwd(2) call (trigger: /bin/pwd -P). No gadget headers. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

struct event {
	__u32 pid;
	__u32 tid;
	char comm[16];
	__u64 timestamp; /* bpf_ktime_get_boot_ns(), plain u64 */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__type(value, struct event);
} print_events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getcwd")
int print_perf(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct event e = {};

	e.pid = id >> 32;
	e.tid = (__u32)id;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	e.timestamp = bpf_ktime_get_boot_ns();
	bpf_perf_event_output(ctx, &print_events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
