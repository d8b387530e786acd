// SPDX-License-Identifier: Apache-2.0
/* Compile check: every header together, each helper used once. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define GADGET_TYPE_TRACING
#define GPU_BRIDGE_WANT_ALL
#include <gadget/macros.h>
#include <gadget/types.h>
#include <gadget/buffer.h>
#include <gadget/mntns.h>
#include <gadget/mntns_filter.h>
#include <gadget/filter.h>
#include <gadget/common.h>
#include <gadget/filesystem.h>
#include <gadget/user_stack_map.h>
#include <gadget/kernel_stack_map.h>
#include <gadget/maps.bpf.h>
#include <gadget/bits.bpf.h>
#include <gadget/core_fixes.bpf.h>
#include <gadget/sockets-map.h>
#include <gadget/fnv1a.h>
#include <gadget/gpu_bridge_maps.h>
#include <gadget/packetfilter.h>

struct event {
	gadget_timestamp timestamp_raw;
	struct gadget_process proc;
	struct gadget_user_stack ustack;
	gadget_kernel_stack kstack_raw;
	__u32 slot;
	__s64 state;
	char path[GADGET_PATH_MAX];
};

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(all, events, event);
GADGET_ITER_TARGET_MAP(all_headers, counts);
GADGET_SK_TARGET_MAP(all_headers_skb, counts);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getcwd")
int all_headers(struct syscall_trace_enter *ctx)
{
	struct event *e;
	__u32 k = 1;
	__u64 init = 0, *v;

	if (gadget_should_discard_data_current())
		return 0;
	v = bpf_map_lookup_or_try_init(&counts, &k, &init);
	if (v)
		__sync_fetch_and_add(v, 1);
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	e->timestamp_raw = bpf_ktime_get_boot_ns();
	gadget_process_populate(&e->proc);
	gadget_get_user_stack_from_tracepoint(ctx, &e->ustack);
	e->kstack_raw = gadget_get_kernel_stack(ctx);
	e->slot = get_slot_idx(e->timestamp_raw);
	if (!has_block_rq_completion() && !has_kfree())
		bpf_core_unreachable();
	if (gpu_meta_fresh(e->timestamp_raw, 1000) && gpu_pid_holder(e->proc.pid, 1))
		e->slot += fnv_32a_init();
	e->state = get_task_state((void *)bpf_get_current_task());
	if (read_full_path_of_open_file_fd(0, e->path, sizeof(e->path)) < 0)
		e->path[0] = 0;
	{
		struct task_struct *t = (void *)bpf_get_current_task();
		struct file *f = get_struct_file_for_fd(0);
		struct gadget_socket_value *sv;

		if (f)
			e->slot += gadget_get_ctime_nanosec_from_inode(BPF_CORE_READ(f, f_inode));
		sv = gadget_socket_lookup((struct sock *)BPF_CORE_READ(t, mm), 0);
		gadget_process_populate_from_socket(sv, &e->proc);
	}
	if (e->proc.pid == 1) {
		gadget_discard_buf(e);
		return 0;
	}
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	gadget_output_buf(ctx, &events, &k, sizeof(k));
	return 0;
}

GADGET_PF(all);

SEC("socket1")
int all_headers_skb(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;

	return gadget_pf_matches(all, skb, data, data_end) ? -1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
