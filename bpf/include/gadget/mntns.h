/* SPDX-License-Identifier: Apache-2.0 */
/* gadget/mntns.h - the current task's mount namespace id (its inode number).
 * Needs struct task_struct, so tracing gadgets only (<vmlinux.h>). */
#ifndef __GADGET_MNTNS_H
#define __GADGET_MNTNS_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <gadget/types.h>
#include <gadget/task_btf.h>

/* the walk through bpf_probe_read_kernel(): slower to run, quicker to verify (gadget/task_btf.h) */
static __always_inline gadget_mntns_id gadget_get_current_mntns_id_probed(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
}

/* the walk as plain loads where the kernel allows it (gadget/task_btf.h) */
static __always_inline gadget_mntns_id gadget_get_current_mntns_id(void)
{
	struct task_struct *task;

	if (gadget_task_btf_reads()) {
		task = bpf_get_current_task_btf();
		return task->nsproxy->mnt_ns->ns.inum;
	}
	return gadget_get_current_mntns_id_probed();
}

/* IG's older name, deprecated there too */
__attribute__((deprecated("use gadget_get_current_mntns_id()")))
static __always_inline gadget_mntns_id gadget_get_mntns_id(void)
{
	return gadget_get_current_mntns_id();
}

#endif /* __GADGET_MNTNS_H */
