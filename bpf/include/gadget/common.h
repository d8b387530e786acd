/* SPDX-License-Identifier: Apache-2.0 */
/* gadget/common.h - fill a struct gadget_process from the current task. */
#ifndef __GADGET_COMMON_H
#define __GADGET_COMMON_H

#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <gadget/types.h>
#include <gadget/mntns.h>
#include <gadget/task_btf.h>

static __always_inline void gadget_process_populate(struct gadget_process *p)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	struct task_struct *task, *parent;

	p->pid = pid_tgid >> 32;
	p->tid = (__u32)pid_tgid;
	p->creds.uid = (__u32)uid_gid;
	p->creds.gid = uid_gid >> 32;
	gadget_get_current_comm(p->comm);

	task = (struct task_struct *)bpf_get_current_task();
	p->mntns_id = gadget_get_current_mntns_id();

	parent = BPF_CORE_READ(task, real_parent);
	if (!parent) {
		p->parent.pid = 0;
		p->parent.tid = 0;
		p->parent.comm[0] = '\0';
		return;
	}
	p->parent.pid = BPF_CORE_READ(parent, tgid);
	p->parent.tid = BPF_CORE_READ(parent, pid);
	bpf_probe_read_kernel_str(p->parent.comm, sizeof(p->parent.comm),
				  parent->comm);
}

/* Same as gadget_process_populate() for an arbitrary task (e.g. in iterators). */
static __always_inline void
gadget_process_populate_from_task(struct task_struct *task,
				  struct gadget_process *p)
{
	struct task_struct *parent;

	p->pid = BPF_CORE_READ(task, tgid);
	p->tid = BPF_CORE_READ(task, pid);
	p->creds.uid = BPF_CORE_READ(task, cred, uid.val);
	p->creds.gid = BPF_CORE_READ(task, cred, gid.val);
	bpf_probe_read_kernel_str(p->comm, sizeof(p->comm), task->comm);
	p->mntns_id = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum); /* the task's, not the current one's */
	parent = BPF_CORE_READ(task, real_parent);
	p->parent.pid = parent ? BPF_CORE_READ(parent, tgid) : 0;
	p->parent.tid = parent ? BPF_CORE_READ(parent, pid) : 0;
	if (parent)
		bpf_probe_read_kernel_str(p->parent.comm,
					  sizeof(p->parent.comm), parent->comm);
	else
		p->parent.comm[0] = '\0';
}

#endif /* __GADGET_COMMON_H */
