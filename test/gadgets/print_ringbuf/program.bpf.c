// SPDX-License-Identifier: Apache-2.0
/* Map-name convention, ring buffer: RINGBUF `print_events` typed with
 * __type(value, struct event) (the loader must zero the value size).
 * One event per getcwd(2) call (trigger: /bin/pwd -P). No gadget headers. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

struct event {
	__u32 pid;
	__u32 tid;
	char comm[16];
	__u64 counter; /* 1, 2, 3… per loaded instance */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__type(value, struct event);
} print_events SEC(".maps");

__u64 counter = 0;

SEC("tracepoint/syscalls/sys_enter_getcwd")
int print_ringbuf(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct event e = {};

	e.pid = id >> 32;
	e.tid = (__u32)id;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	e.counter = __sync_add_and_fetch(&counter, 1);
	bpf_ringbuf_output(&print_events, &e, sizeof(e), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
