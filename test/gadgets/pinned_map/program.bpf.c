// SPDX-License-Identifier: Apache-2.0
/* A map pinned by name (LIBBPF_PIN_BY_NAME, as IG's gpu bridge maps): runs share it through
 * /sys/fs/bpf/ig_test_pinned_calls, so the count of getcwd calls (filtered with --comm) goes on
 * from one run to the next. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/types.h>

struct event {
	gadget_pid pid;
	__u64 calls;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ig_test_pinned_calls SEC(".maps");

GADGET_TRACER_MAP(events, 64 * 1024);
GADGET_TRACER(calls, events, event);

SEC("tracepoint/syscalls/sys_enter_getcwd")
int count(void *ctx)
{
	__u32 zero = 0;
	__u64 one = 1, *n;
	struct event *e;

	if (gadget_should_discard_data_current())
		return 0;
	n = bpf_map_lookup_elem(&ig_test_pinned_calls, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&ig_test_pinned_calls, &zero, &one, BPF_NOEXIST);
	n = bpf_map_lookup_elem(&ig_test_pinned_calls, &zero);
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->calls = n ? *n : 0;
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
