// SPDX-License-Identifier: Apache-2.0
/* IG's header surface, one helper of each group used from a tracepoint (getcwd(2);
 * trigger: a copy of /bin/pwd -P), with values a test can compute on its own:
 * - common.h: gadget_process_populate() with the parent's tid;
 * - user_stack_map.h: gadget_get_user_stack_from_tracepoint() (off unless
 *   --collect-ustack): the exe's device, inode and mtime, pids, a stack id;
 * - kernel_stack_map.h: gadget_get_kernel_stack();
 * - core_fixes.bpf.h: gadget_get_ctime_nanosec_from_inode() of the exe,
 *   bpf_core_unreachable() on a branch no kernel takes;
 * - bits.bpf.h / fnv1a.h: get_slot_idx(pid), FNV-1a 32 of the pid. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include <gadget/buffer.h>
#include <gadget/common.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/types.h>
#include <gadget/bits.bpf.h>
#include <gadget/fnv1a.h>
#include <gadget/core_fixes.bpf.h>
#include <gadget/kernel_stack_map.h>
#include <gadget/user_stack_map.h>

struct event {
	struct gadget_process proc;
	struct gadget_user_stack ustack;
	gadget_kernel_stack kstack_raw;
	__u32 pid_fnv1a;
	__u64 pid_slot;
	__u64 exe_ctime_ns;
};

GADGET_TRACER_MAP(events, 256 * 1024);
GADGET_TRACER(surface, events, event);

/* present on every kernel ig runs on: the unreachable branch below is pruned */
struct task_struct___surface {
	int pid;
} __attribute__((preserve_access_index));

SEC("tracepoint/syscalls/sys_enter_getcwd")
int header_surface(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct inode *exe = BPF_CORE_READ(task, mm, exe_file, f_inode);
	struct event *e;
	__u32 h;

	if (gadget_should_discard_data_current())
		return 0;
	if (!bpf_core_field_exists(struct task_struct___surface, pid))
		bpf_core_unreachable();
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	gadget_process_populate(&e->proc);
	gadget_get_user_stack_from_tracepoint(ctx, &e->ustack);
	e->kstack_raw = gadget_get_kernel_stack(ctx);
	h = fnv_32a_init();
	fnv_32a_update_u32(&h, e->proc.pid);
	e->pid_fnv1a = h;
	e->pid_slot = get_slot_idx(e->proc.pid);
	e->exe_ctime_ns = gadget_get_ctime_nanosec_from_inode(exe);
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
