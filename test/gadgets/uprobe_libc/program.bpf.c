// SPDX-License-Identifier: Apache-2.0
/* uprobe and uretprobe on libc by library name (IG's SEC("uprobe/libc:malloc")): one event
 * when malloc is called with --size bytes, one when that call returns (with the pointer). */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>

enum kind { MALLOC_CALL = 1, MALLOC_RETURN = 2 };

struct event {
	gadget_pid pid;
	gadget_comm comm[TASK_COMM_LEN];
	enum kind kind;
	__u64 size;
	__u64 ret;
};

const volatile __u64 size = 0;
GADGET_PARAM(size);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

GADGET_TRACER_MAP(events, 64 * 1024);
GADGET_TRACER(malloc, events, event);

static __always_inline void emit(void *ctx, enum kind kind, __u64 sz, __u64 ret)
{
	struct event *e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->kind = kind;
	e->size = sz;
	e->ret = ret;
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
}

SEC("uprobe/libc:malloc")
int BPF_UPROBE(malloc_call, __u64 sz)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	if (sz != size)
		return 0;
	bpf_map_update_elem(&calls, &tid, &sz, BPF_ANY);
	emit(ctx, MALLOC_CALL, sz, 0);
	return 0;
}

SEC("uretprobe/libc:malloc")
int BPF_URETPROBE(malloc_return, __u64 ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *sz = bpf_map_lookup_elem(&calls, &tid);
	if (!sz)
		return 0;
	emit(ctx, MALLOC_RETURN, *sz, ret);
	bpf_map_delete_elem(&calls, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
