// SPDX-License-Identifier: Apache-2.0
/* The current task read both ways, side by side in one event per getppid(2):
 * gadget/task_btf.h's plain loads (comm, uid, gid; gadget_process_populate()
 * of gadget/common.h reads comm so) against the kernel's helpers (helper_comm,
 * helper_uid, helper_gid), and gadget/pidns.h's gadget_get_current_pidns() (a
 * level-0 task reads numbers[0] directly) against the CO-RE walk of
 * gadget_task_ns_tgid() (slow_ns_pid). --comm filters in the kernel, through
 * the same comm loads. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/common.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/pidns.h>
#include <gadget/task_btf.h>
#include <gadget/types.h>

struct event {
	struct gadget_process proc;
	gadget_comm comm[TASK_COMM_LEN];
	gadget_comm helper_comm[TASK_COMM_LEN];
	__u32 uid;
	__u32 gid;
	__u32 helper_uid;
	__u32 helper_gid;
	gadget_pidns_id pidns_id;
	gadget_ns_pid ns_pid;
	gadget_ns_tid ns_tid;
	__u32 slow_ns_pid;
};

GADGET_TRACER_MAP(events, 256 * 1024);
GADGET_TRACER(getppid, events, event);

SEC("tracepoint/syscalls/sys_enter_getppid")
int task_reads(struct syscall_trace_enter *ctx)
{
	__u64 uid_gid, helper_uid_gid;
	struct event *e;

	if (gadget_should_discard_data_current())
		return 0;
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	gadget_process_populate(&e->proc);
	gadget_get_current_comm(e->comm);
	bpf_get_current_comm(e->helper_comm, sizeof(e->helper_comm));
	uid_gid = gadget_get_current_uid_gid();
	helper_uid_gid = bpf_get_current_uid_gid();
	e->uid = (__u32)uid_gid;
	e->gid = uid_gid >> 32;
	e->helper_uid = (__u32)helper_uid_gid;
	e->helper_gid = helper_uid_gid >> 32;
	gadget_get_current_pidns(&e->pidns_id, &e->ns_pid, &e->ns_tid, 0);
	e->slow_ns_pid = gadget_task_ns_tgid((struct task_struct *)bpf_get_current_task());
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
