// SPDX-License-Identifier: Apache-2.0
/* Marker convention map iterator: GADGET_MAPITER(getcwd_calls, counts),
 * HASH key {pid, comm, mntns_id}, value {calls, bytes}, counting getcwd(2)
 * calls (trigger: /bin/pwd -P). bytes adds the size argument of each call. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/mntns.h>
#include <gadget/types.h>

struct key_t {
	gadget_pid pid;
	gadget_comm comm[TASK_COMM_LEN];
	gadget_mntns_id mntns_id;
};

struct value_t {
	__u64 calls;
	gadget_bytes bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct key_t);
	__type(value, struct value_t);
} counts SEC(".maps");

GADGET_MAPITER(getcwd_calls, counts);

SEC("tracepoint/syscalls/sys_enter_getcwd")
int mapiter_topper(struct syscall_trace_enter *ctx)
{
	struct key_t k = {};
	struct value_t init = {}, *v;

	if (gadget_should_discard_data_current())
		return 0;
	k.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(k.comm, sizeof(k.comm));
	k.mntns_id = gadget_get_current_mntns_id();
	v = bpf_map_lookup_elem(&counts, &k);
	if (!v) {
		bpf_map_update_elem(&counts, &k, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&counts, &k);
		if (!v)
			return 0;
	}
	__sync_fetch_and_add(&v->calls, 1);
	__sync_fetch_and_add(&v->bytes, ctx->args[1]);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
