// SPDX-License-Identifier: Apache-2.0
/* Metrics, bumblebee's map-name convention, updated on getcwd(2) (trigger:
 * /bin/pwd -P). Keys are structs whose fields are labels.
 *   counter_getcwd_calls  {comm}      → u64 calls (monotonic)
 *   gauge_getcwd_last_pid {comm}      → u64 pid of the latest caller
 *   hist_getcwd_size      {comm, le}  → u64 count of calls whose size argument
 *                                       is <= le (le = next power of 2; buckets
 *                                       are not cumulative in the map)
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

struct label_t {
	char comm[16];
};

struct hist_key_t {
	char comm[16];
	__u64 le;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct label_t);
	__type(value, __u64);
} counter_getcwd_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct label_t);
	__type(value, __u64);
} gauge_getcwd_last_pid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct hist_key_t);
	__type(value, __u64);
} hist_getcwd_size SEC(".maps");

static __always_inline void add(void *map, void *key)
{
	__u64 one = 1, *v = bpf_map_lookup_elem(map, key);

	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(map, key, &one, BPF_NOEXIST);
}

SEC("tracepoint/syscalls/sys_enter_getcwd")
int metrics(struct syscall_trace_enter *ctx)
{
	struct label_t l = {};
	struct hist_key_t hk = {};
	__u64 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 size = ctx->args[1], le = 1;

	bpf_get_current_comm(l.comm, sizeof(l.comm));
	add(&counter_getcwd_calls, &l);
	bpf_map_update_elem(&gauge_getcwd_last_pid, &l, &pid, BPF_ANY);

	for (int i = 0; i < 32 && le < size; i++)
		le <<= 1;
	__builtin_memcpy(hk.comm, l.comm, sizeof(hk.comm));
	hk.le = le;
	add(&hist_getcwd_size, &hk);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
