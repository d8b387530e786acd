/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gadget/pidns.h - a task's pids as its own pid namespace sees them, and the
 * namespace's id (ig's header; Inspektor Gadget has none). A process in a
 * container is pid 1 or 27 there and 81234 on the host: events carry both.
 *
 *   gadget_task_pidns_id(task)   inode of the task's pid namespace (as
 *                                /proc/PID/ns/pid shows it)
 *   gadget_task_ns_tgid(task)    the process id in that namespace (getpid())
 *   gadget_task_ns_pid(task)     the thread id in that namespace (gettid())
 *   gadget_task_ns_ppid(task)    the parent's process id in that namespace
 *                                (getppid(): 0 when the parent is outside it,
 *                                as for a container's first process)
 *   gadget_get_current_pidns(&pidns_id, &ns_pid, &ns_tid, &ns_ppid)
 *                                all four for the current task
 *
 * Reads follow KubeArmor's get_task_ns_tgid: the task's struct pid
 * (task->thread_pid, or task->pids[PIDTYPE_PID].pid before 4.19) and its
 * numbers[pid->level], all CO-RE. The namespace is numbers[level].ns, the one
 * the task's pids live in: KubeArmor reads nsproxy->pid_ns_for_children, which
 * is the same namespace except in a task that called unshare(CLONE_NEWPID)
 * itself (its children go to the new namespace, it stays in the old one).
 */
#ifndef __GADGET_PIDNS_H
#define __GADGET_PIDNS_H

#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <gadget/types.h>
#include <gadget/task_btf.h>

/* before 4.19 a task's struct pid hung off task->pids[] */
struct pid_link___gadget_old {
	struct hlist_node node;
	struct pid *pid;
};
struct task_struct___gadget_old {
	struct pid_link___gadget_old pids[4];
};

static __always_inline struct pid *gadget_task_struct_pid(struct task_struct *task)
{
	if (bpf_core_field_exists(task->thread_pid))
		return BPF_CORE_READ(task, thread_pid);
	return BPF_CORE_READ((struct task_struct___gadget_old *)task, pids[0].pid);
}

/* the number of `pid` at `level` of its namespaces, and that namespace's inode */
static __always_inline __u32 gadget_pid_nr_at(struct pid *pid, unsigned int level, __u32 *ns_inum)
{
	if (!pid)
		return 0;
	if (ns_inum)
		*ns_inum = BPF_CORE_READ(pid, numbers[level].ns, ns.inum);
	return BPF_CORE_READ(pid, numbers[level].nr);
}

static __always_inline __u32 gadget_task_pidns_id(struct task_struct *task)
{
	struct pid *pid = gadget_task_struct_pid(task);
	__u32 inum = 0;

	if (pid)
		gadget_pid_nr_at(pid, BPF_CORE_READ(pid, level), &inum);
	return inum;
}

static __always_inline __u32 gadget_task_ns_pid(struct task_struct *task)
{
	struct pid *pid = gadget_task_struct_pid(task);

	return pid ? gadget_pid_nr_at(pid, BPF_CORE_READ(pid, level), 0) : 0;
}

static __always_inline __u32 gadget_task_ns_tgid(struct task_struct *task)
{
	return gadget_task_ns_pid(BPF_CORE_READ(task, group_leader));
}

/* getppid() as the task sees it: the parent's number in the task's namespace, if it has one there */
static __always_inline __u32 gadget_task_ns_ppid(struct task_struct *task)
{
	struct pid *pid = gadget_task_struct_pid(task);
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);
	struct pid *ppid;
	unsigned int level;
	__u32 ns = 0, pns = 0, nr;

	if (!pid || !parent)
		return 0;
	level = BPF_CORE_READ(pid, level);
	gadget_pid_nr_at(pid, level, &ns);
	ppid = gadget_task_struct_pid(BPF_CORE_READ(parent, group_leader));
	if (!ppid || BPF_CORE_READ(ppid, level) < level)
		return 0;
	nr = gadget_pid_nr_at(ppid, level, &pns);
	return pns == ns ? nr : 0;
}

/*
 * All four for the current task. The task's struct pid and level are read once
 * for the namespace and the thread id, and a thread that leads its group (the
 * usual case: tid == pid) is its own group leader, so its process id in the
 * namespace is its thread id: 5 kernel reads instead of 11 for the first three
 * (each bpf_probe_read_kernel is a helper call; trace_open pays them per open).
 */
static __always_inline void __gadget_current_pidns(bool loads, gadget_pidns_id *pidns_id, gadget_ns_pid *ns_pid,
						   gadget_ns_tid *ns_tid, gadget_ns_ppid *ns_ppid)
{
	struct task_struct *task;
	struct pid *pid;
	__u32 inum = 0, tid = 0;

	if (loads) { /* 5.11+: task->thread_pid exists (4.19+) */
		/* the pointer walk as plain loads; numbers[level] has a variable offset, which only a
		 * helper may read, so only a task of the initial pid namespace (level 0, numbers[0])
		 * skips the helper call */
		struct upid up = {};

		task = bpf_get_current_task_btf();
		pid = task->thread_pid;
		if (pid && pid->level == 0) {
			tid = pid->numbers[0].nr;
			inum = pid->numbers[0].ns->ns.inum;
		} else if (pid && !bpf_probe_read_kernel(&up, sizeof(up), &pid->numbers[pid->level])) {
			tid = up.nr;
			inum = BPF_CORE_READ(up.ns, ns.inum);
		}
	} else {
		task = (struct task_struct *)bpf_get_current_task();
		pid = gadget_task_struct_pid(task);
		if (pid)
			tid = gadget_pid_nr_at(pid, BPF_CORE_READ(pid, level), &inum);
	}
	if (pidns_id)
		*pidns_id = inum;
	if (ns_tid)
		*ns_tid = tid;
	if (ns_pid) {
		__u64 pid_tgid = bpf_get_current_pid_tgid();

		*ns_pid = (__u32)pid_tgid == pid_tgid >> 32 ? tid : gadget_task_ns_tgid(task);
	}
	if (ns_ppid)
		*ns_ppid = gadget_task_ns_ppid(task);
}

static __always_inline void gadget_get_current_pidns(gadget_pidns_id *pidns_id, gadget_ns_pid *ns_pid,
						     gadget_ns_tid *ns_tid, gadget_ns_ppid *ns_ppid)
{
	__gadget_current_pidns(gadget_task_btf_reads(), pidns_id, ns_pid, ns_tid, ns_ppid);
}

/* the same through bpf_probe_read_kernel(): slower to run, quicker to verify (gadget/task_btf.h) */
static __always_inline void gadget_get_current_pidns_probed(gadget_pidns_id *pidns_id, gadget_ns_pid *ns_pid,
							    gadget_ns_tid *ns_tid, gadget_ns_ppid *ns_ppid)
{
	__gadget_current_pidns(false, pidns_id, ns_pid, ns_tid, ns_ppid);
}

#endif /* __GADGET_PIDNS_H */
