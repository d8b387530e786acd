/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gadget/user_stack_map.h - user stacks, off unless --collect-ustack.
 *
 * gadget_get_user_stack(ctx, &ev->ustack) fills a struct gadget_user_stack:
 * the stack id in ig_ustack, and the executable's inode/mtime plus the pid in
 * the first two pid namespaces so user space can find the binary to symbolise.
 */
#ifndef __GADGET_USER_STACK_MAP_H
#define __GADGET_USER_STACK_MAP_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <gadget/macros.h>
#include <gadget/types.h>

const volatile bool collect_ustack = false;
GADGET_PARAM(collect_ustack);

#define USER_MAX_STACK_DEPTH 127
#define USER_STACK_MAP_MAX_ENTRIES 10000

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, USER_STACK_MAP_MAX_ENTRIES);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, USER_MAX_STACK_DEPTH * sizeof(__u64));
} ig_ustack SEC(".maps");

/* inode mtime across kernel versions (6.11+: i_mtime_sec/i_mtime_nsec;
 * 6.7-6.10: __i_mtime; older: i_mtime) */
struct inode___gadget_sec_nsec {
	time64_t i_mtime_sec;
	u32 i_mtime_nsec;
};
struct inode___gadget_underscore {
	struct timespec64 __i_mtime;
};
struct inode___gadget_ts64 {
	struct timespec64 i_mtime;
};

static __always_inline void gadget_inode_get_mtime(struct inode *inode,
						   __u64 *sec, __u32 *nsec)
{
	if (bpf_core_field_exists(struct inode___gadget_sec_nsec, i_mtime_sec)) {
		struct inode___gadget_sec_nsec *i = (void *)inode;
		*sec = BPF_CORE_READ(i, i_mtime_sec);
		*nsec = BPF_CORE_READ(i, i_mtime_nsec);
	} else if (bpf_core_field_exists(struct inode___gadget_underscore,
					 __i_mtime)) {
		struct inode___gadget_underscore *i = (void *)inode;
		*sec = BPF_CORE_READ(i, __i_mtime.tv_sec);
		*nsec = BPF_CORE_READ(i, __i_mtime.tv_nsec);
	} else {
		struct inode___gadget_ts64 *i = (void *)inode;
		*sec = BPF_CORE_READ(i, i_mtime.tv_sec);
		*nsec = BPF_CORE_READ(i, i_mtime.tv_nsec);
	}
}

static __always_inline void
gadget_get_user_stack(void *ctx, struct gadget_user_stack *ustack)
{
	struct task_struct *task;
	struct inode *inode;
	struct pid *thread_pid;
	unsigned int level;
	long id;

	__builtin_memset(ustack, 0, sizeof(*ustack));
	if (!collect_ustack)
		return;

	id = bpf_get_stackid(ctx, &ig_ustack,
			     BPF_F_FAST_STACK_CMP | BPF_F_USER_STACK);
	ustack->stack_id = id < 0 ? 0 : (__u32)id;

	task = (struct task_struct *)bpf_get_current_task();
	inode = BPF_CORE_READ(task, mm, exe_file, f_inode);
	ustack->exe_inode = BPF_CORE_READ(inode, i_ino);
	gadget_inode_get_mtime(inode, &ustack->mtime_sec, &ustack->mtime_nsec);

	thread_pid = BPF_CORE_READ(task, thread_pid);
	level = BPF_CORE_READ(thread_pid, level);
	ustack->pid_level0 = BPF_CORE_READ(thread_pid, numbers[0].nr);
	ustack->pidns_level0 = BPF_CORE_READ(thread_pid, numbers[0].ns, ns.inum);
	if (level >= 1) {
		struct upid *up = &thread_pid->numbers[0];
		up += 1; /* numbers[] is a flexible array */
		ustack->pid_level1 = BPF_CORE_READ(up, nr);
		ustack->pidns_level1 = BPF_CORE_READ(up, ns, ns.inum);
	}
}

/* Tracepoint programs get the same context handling. */
#define gadget_get_user_stack_tp(ctx, ustack) gadget_get_user_stack(ctx, ustack)

#endif /* __GADGET_USER_STACK_MAP_H */
