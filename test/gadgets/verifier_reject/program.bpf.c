// SPDX-License-Identifier: Apache-2.0
/* A gadget the verifier must reject: it indexes a map value with an
 * unbounded random number ("R? unbounded memory access" / "invalid access to
 * map value"). Compiles fine. Tests expect a load error quoting the log. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>

struct event {
	gadget_pid pid;
	__u32 value;
};

struct table {
	__u32 slots[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct table);
} table SEC(".maps");

GADGET_TRACER_MAP(events, 64 * 1024);
GADGET_TRACER(reject, events, event);

SEC("tracepoint/syscalls/sys_enter_getcwd")
int verifier_reject(void *ctx)
{
	__u32 zero = 0, idx = bpf_get_prandom_u32();
	struct table *t = bpf_map_lookup_elem(&table, &zero);
	struct event *e;

	if (!t)
		return 0;
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->value = t->slots[idx]; /* idx is not bounded: rejected */
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
