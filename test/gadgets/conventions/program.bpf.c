// SPDX-License-Identifier: Apache-2.0
/* IG's runtime conventions in one tracer (trigger: getcwd(2), filtered with --comm):
 * - `slots` is declared with 0 entries and sized by `slots_max_entries` (a param): each event
 *   says whether its pid still found room (insert_ret 0, or -E2BIG once the map is full);
 * - `signal_like` (int) has gadget.yaml default "": the object's value (7) stays;
 * - tp_btf/sys_enter reports the same getcwd calls (source TP_BTF);
 * - two programs are never attached: one by its section's target (gadget_program_disabled),
 *   one by gadget.yaml (programs.by_yaml.attach_to);
 * - kernel and user stacks (gadget_kernel_stack, gadget_user_stack with --collect-ustack). */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include <gadget/buffer.h>
#include <gadget/common.h>
#include <gadget/filter.h>
#include <gadget/kernel_stack_map.h>
#include <gadget/macros.h>
#include <gadget/types.h>
#include <gadget/user_stack_map.h>

enum source { TRACEPOINT = 1, TP_BTF = 2, BY_YAML = 3, BY_SECTION = 4 };

struct event {
	struct gadget_process proc;
	enum source source;
	__s32 insert_ret;
	__s32 signal_like;
	gadget_kernel_stack kstack_raw;
	struct gadget_user_stack ustack;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 0);
	__type(key, __u32);
	__type(value, __u32);
} slots SEC(".maps");

const volatile int slots_max_entries = 4;
GADGET_PARAM(slots_max_entries);
const volatile int signal_like = 7;
GADGET_PARAM(signal_like);

GADGET_TRACER_MAP(events, 256 * 1024);
GADGET_TRACER(conventions, events, event);

static __always_inline int emit(void *ctx, enum source source, bool tracepoint)
{
	struct event *e;
	__u32 one = 1;

	if (gadget_should_discard_data_current())
		return 0;
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	gadget_process_populate(&e->proc);
	e->source = source;
	e->signal_like = signal_like;
	if (tracepoint) {
		e->insert_ret = bpf_map_update_elem(&slots, &e->proc.pid, &one, BPF_NOEXIST);
		e->kstack_raw = gadget_get_kernel_stack(ctx);
		gadget_get_user_stack(ctx, &e->ustack);
	}
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getcwd")
int on_getcwd(void *ctx)
{
	return emit(ctx, TRACEPOINT, true);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long id)
{
	if (id != 79 /* __NR_getcwd, x86_64 */)
		return 0;
	return emit(ctx, TP_BTF, false);
}

SEC("tracepoint/syscalls/sys_enter_getcwd")
int by_yaml(void *ctx)
{
	return emit(ctx, BY_YAML, false);
}

SEC("tracepoint/gadget_program_disabled")
int by_section(void *ctx)
{
	return emit(ctx, BY_SECTION, false);
}

char LICENSE[] SEC("license") = "GPL";
