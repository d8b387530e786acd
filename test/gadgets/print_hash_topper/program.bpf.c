// SPDX-License-Identifier: Apache-2.0
/* Map-name convention topper: HASH `print_counts`, key {pid, comm}, value
 * {count}, counting getcwd(2) calls (trigger: /bin/pwd -P). No gadget headers. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

struct key_t {
	__u32 pid;
	char comm[16];
};

struct value_t {
	__u64 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct key_t);
	__type(value, struct value_t);
} print_counts SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getcwd")
int print_hash_topper(void *ctx)
{
	struct key_t k = {};
	struct value_t one = { .count = 1 }, *v;

	k.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(k.comm, sizeof(k.comm));
	v = bpf_map_lookup_elem(&print_counts, &k);
	if (v)
		__sync_fetch_and_add(&v->count, 1);
	else
		bpf_map_update_elem(&print_counts, &k, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
