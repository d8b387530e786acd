/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gadget/task_btf.h - whether the current task can be read as a BTF pointer
 * (ig's header; Inspektor Gadget has none).
 *
 * Where the kernel has bpf_get_current_task_btf() (5.11+), a walk such as
 * task->nsproxy->mnt_ns->ns.inum is a few plain loads the JIT guards against
 * faults (a NULL or bad pointer reads 0); through bpf_get_current_task() each
 * step is a bpf_probe_read_kernel() helper call. The check is a CO-RE enum
 * relocation: a constant once loaded, so the verifier never walks the branch
 * the kernel cannot run. Tracing programs only (tracepoint, raw_tp, tp_btf,
 * kprobe, fentry, iter, perf_event, lsm).
 *
 * Also here, for the same reason: the current task's comm and uid/gid without
 * a helper call each.
 *
 * What plain loads cost instead: verification. Each load of a pointer field
 * from the task itself (task->nsproxy, ->thread_pid, ->cred) makes the
 * verifier look for the field in its lists of trusted and RCU-safe fields,
 * searching the kernel's whole BTF by name (a linear scan on 6.18): ~1.8 ms of
 * load time per such load and program on this project's test machine, where a
 * whole trace_open exit program verifies in ~0.9 ms without them. A program
 * that runs rarely (sys_exit_openat2 beside sys_exit_openat) starts sooner
 * with the *_probed() forms of mntns.h and pidns.h and the kernel's own
 * bpf_get_current_uid_gid(). Loads of scalars (comm) cost the verifier
 * nothing more. bench/README.md, "The tight loop, round six", has the figures.
 */
#ifndef __GADGET_TASK_BTF_H
#define __GADGET_TASK_BTF_H

#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#ifndef TASK_COMM_LEN
#define TASK_COMM_LEN 16
#endif

static __always_inline bool gadget_task_btf_reads(void)
{
	return bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf);
}

/*
 * bpf_get_current_comm(comm, 16) in two 8-byte loads of task->comm where the
 * kernel allows. The kernel keeps comm NUL-padded, so this is what the helper
 * copies byte by byte; a kernel that did not pad would leave old bytes after
 * the NUL, which output (read up to the NUL) never shows: keep
 * bpf_get_current_comm() for a comm that is a map key. A `comm` on the stack
 * must be 8-byte aligned (the verifier requires aligned stack stores).
 */
static __always_inline void gadget_get_current_comm(void *comm)
{
	if (gadget_task_btf_reads()) {
		struct task_struct *task = bpf_get_current_task_btf();

		((__u64 *)comm)[0] = *(__u64 *)&task->comm[0];
		((__u64 *)comm)[1] = *(__u64 *)&task->comm[8];
		return;
	}
	bpf_get_current_comm(comm, TASK_COMM_LEN);
}

/*
 * bpf_get_current_uid_gid() (gid << 32 | uid, as the initial user namespace
 * sees them, which is a kuid's own number) read from task->cred with plain
 * loads where the kernel allows.
 */
static __always_inline __u64 gadget_get_current_uid_gid(void)
{
	if (gadget_task_btf_reads()) {
		const struct cred *cred = bpf_get_current_task_btf()->cred;

		return (__u64)cred->gid.val << 32 | cred->uid.val;
	}
	return bpf_get_current_uid_gid();
}

#endif /* __GADGET_TASK_BTF_H */
