// SPDX-License-Identifier: Apache-2.0
/* IG's header surface, one helper of each group used from a tracepoint (getcwd(2);
 * trigger: a copy of /bin/pwd -P), with values a test can compute on its own:
 * - common.h: gadget_process_populate() with the parent's tid;
 * - user_stack_map.h: gadget_get_user_stack_from_tracepoint() (off unless
 *   --collect-ustack): the exe's device, inode and mtime, pids, a stack id;
 * - kernel_stack_map.h: gadget_get_kernel_stack();
 * - core_fixes.bpf.h: gadget_get_ctime_nanosec_from_inode() of the exe,
 *   bpf_core_unreachable() on a branch no kernel takes;
 * - bits.bpf.h / fnv1a.h: get_slot_idx(pid), FNV-1a 32 of the pid;
 * - filesystem.h: the full path of fd 1 (the test points it at /dev/null);
 * - maps.bpf.h: getcwd calls per pid counted with bpf_map_lookup_or_try_init();
 * - core_fixes.bpf.h: get_task_state() of the running task;
 * - buffer.h: a reserved record discarded with gadget_discard_buf() (the
 *   verifier refuses a program that leaks one), the other submitted. */
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
#include <gadget/filesystem.h>
#include <gadget/maps.bpf.h>

struct event {
	struct gadget_process proc;
	struct gadget_user_stack ustack;
	gadget_kernel_stack kstack_raw;
	__u32 pid_fnv1a;
	__u64 pid_slot;
	__u64 exe_ctime_ns;
	__u64 calls;
	__s64 state;
	char fd1_path[GADGET_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

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
	void *dropped;
	__u64 zero = 0, *n;
	__u32 h, pid;

	if (gadget_should_discard_data_current())
		return 0;
	if (!bpf_core_field_exists(struct task_struct___surface, pid))
		bpf_core_unreachable();
	dropped = gadget_reserve_buf(&events, 64);
	if (dropped)
		gadget_discard_buf(dropped);
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
	pid = e->proc.pid;
	n = bpf_map_lookup_or_try_init(&calls, &pid, &zero);
	if (n)
		e->calls = __sync_add_and_fetch(n, 1);
	e->state = get_task_state(task);
	if (read_full_path_of_open_file_fd(1, e->fd1_path, sizeof(e->fd1_path)) < 0)
		e->fd1_path[0] = '\0';
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
