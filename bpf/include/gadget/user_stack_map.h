/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gadget/user_stack_map.h - user stacks, off unless --collect-ustack.
 *
 * Call the variant for your program's type (IG's names):
 *   gadget_get_user_stack_from_tracepoint(ctx, &ev->ustack)  tracepoints, raw tp
 *   gadget_get_user_stack_from_kprobe(ctx, &ev->ustack)      k/uprobes (pt_regs)
 *   gadget_get_user_stack_from_perf_event(ctx, &ev->ustack)  perf_event
 *   gadget_get_user_stack(ctx, &ev->ustack)                  picks one by ctx's type
 * Each fills a struct gadget_user_stack (gadget/types.h): the stack id in
 * ig_ustack, the executable's device/inode/mtime so user space can find the
 * binary to symbolise, a hash identifying the address-space instance and the
 * pid in the first two pid namespaces.
 *
 * With collect_build_id, the stack's frames are also stored as build ids in
 * ig_build_id (keyed by stack id) for symbolisation by build id.
 *
 * collect_otel_stack exists for IG compatibility: IG then asks an
 * OpenTelemetry profiler for a correlation id through a tail call. ig has no
 * such profiler, so otel_correlation_id stays 0; a tracepoint program cannot
 * make that tail call at all, so there (as in IG) asking for it makes the
 * program fail to load rather than silently lose it.
 */
#ifndef __GADGET_USER_STACK_MAP_H
#define __GADGET_USER_STACK_MAP_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <gadget/macros.h>
#include <gadget/types.h>
#include <gadget/fnv1a.h>
#include <gadget/core_fixes.bpf.h>

const volatile bool collect_ustack = false;
GADGET_PARAM(collect_ustack);

const volatile bool collect_build_id = false;
GADGET_PARAM(collect_build_id);

const volatile bool collect_otel_stack = false;
GADGET_PARAM(collect_otel_stack);

#define GADGET_USER_MAX_STACK_DEPTH 127
#define GADGET_USER_STACK_MAP_MAX_ENTRIES 10000

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, GADGET_USER_STACK_MAP_MAX_ENTRIES);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, GADGET_USER_MAX_STACK_DEPTH * sizeof(__u64));
} ig_ustack SEC(".maps");

/*
 * IG sizes ig_build_id at run time from ig_build_id_max_entries (the
 * "<map>_max_entries" convention) and declares it with 0 entries. A runtime
 * that does not apply the convention cannot create a 0-entry map, so ours
 * declares 1: a runtime applying the convention resizes it all the same.
 */
const volatile int ig_build_id_max_entries = 1024;
GADGET_PARAM(ig_build_id_max_entries);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, GADGET_USER_MAX_STACK_DEPTH * sizeof(struct bpf_stack_build_id));
} ig_build_id SEC(".maps");

static const struct bpf_stack_build_id __gadget_no_build_ids[GADGET_USER_MAX_STACK_DEPTH] = {};

/* inode mtime across kernel versions: i_mtime (timespec, < 4.18; timespec64
 * until 6.6), __i_mtime (6.7-6.10), i_mtime_sec + i_mtime_nsec (6.11+) */
struct inode___gadget_mtime_split {
	time64_t i_mtime_sec;
	u32 i_mtime_nsec;
} __attribute__((preserve_access_index));

struct inode___gadget_mtime_underscore {
	struct timespec64 __i_mtime;
} __attribute__((preserve_access_index));

struct inode___gadget_mtime_ts64 {
	struct timespec64 i_mtime;
} __attribute__((preserve_access_index));

static __always_inline void gadget_inode_get_mtime(struct inode *inode,
						   __u64 *mtime_sec,
						   __u32 *mtime_nsec)
{
	struct inode___gadget_mtime_split *split = (void *)inode;
	struct inode___gadget_mtime_underscore *under = (void *)inode;
	struct inode___gadget_mtime_ts64 *ts = (void *)inode;

	if (bpf_core_field_exists(split->i_mtime_sec)) {
		*mtime_sec = BPF_CORE_READ(split, i_mtime_sec);
		*mtime_nsec = BPF_CORE_READ(split, i_mtime_nsec);
	} else if (bpf_core_field_exists(under->__i_mtime)) {
		*mtime_sec = BPF_CORE_READ(under, __i_mtime.tv_sec);
		*mtime_nsec = BPF_CORE_READ(under, __i_mtime.tv_nsec);
	} else {
		*mtime_sec = BPF_CORE_READ(ts, i_mtime.tv_sec);
		*mtime_nsec = BPF_CORE_READ(ts, i_mtime.tv_nsec);
	}
}

/* identifies one address-space instance: changes at every execve (ASLR) */
static __always_inline u32 gadget_get_base_addr_hash(struct task_struct *task)
{
	u32 h = fnv_32a_init();

	fnv_32a_update_u64(&h, (u64)BPF_CORE_READ(task, mm));
	fnv_32a_update_u64(&h, (u64)BPF_CORE_READ(task, mm, start_code));
	fnv_32a_update_u64(&h, (u64)BPF_CORE_READ(task, mm, start_stack));
	return h;
}

/* everything but the OpenTelemetry part, common to all program types */
static __always_inline void __gadget_fill_user_stack(void *ctx,
						     struct gadget_user_stack *ustack)
{
	struct task_struct *task;
	struct inode *inode;
	struct pid *thread_pid;
	struct upid *up;
	unsigned int level;
	dev_t dev;

	__builtin_memset(ustack, 0, sizeof(*ustack));
	if (!collect_ustack)
		return;

	ustack->stack_id = bpf_get_stackid(ctx, &ig_ustack,
					   BPF_F_FAST_STACK_CMP | BPF_F_USER_STACK);
	ustack->boot_timestamp = bpf_ktime_get_boot_ns();

	task = (struct task_struct *)bpf_get_current_task();
	ustack->tgid_level0 = BPF_CORE_READ(task, tgid);
	thread_pid = BPF_CORE_READ(task, thread_pid);
	level = BPF_CORE_READ(thread_pid, level);
	/* numbers[] is a flexible array (its declared type changed in 6.5):
	 * step through it with a plain struct upid pointer */
	up = (struct upid *)&thread_pid->numbers;
	ustack->pid_level0 = BPF_CORE_READ(up, nr);
	ustack->pidns_level0 = BPF_CORE_READ(up, ns, ns.inum);
	if (level >= 1) {
		up += 1;
		ustack->pid_level1 = BPF_CORE_READ(up, nr);
		ustack->pidns_level1 = BPF_CORE_READ(up, ns, ns.inum);
	}

	inode = BPF_CORE_READ(task, mm, exe_file, f_inode);
	/* the kernel's dev_t is MAJOR << 20 | MINOR; user space stat() encodes it
	 * differently, so hand over the two numbers */
	dev = BPF_CORE_READ(inode, i_sb, s_dev);
	ustack->major = dev >> 20;
	ustack->minor = dev & ((1U << 20) - 1);
	ustack->inode = BPF_CORE_READ(inode, i_ino);
	gadget_inode_get_mtime(inode, &ustack->mtime_sec, &ustack->mtime_nsec);
	ustack->base_addr_hash = gadget_get_base_addr_hash(task);

	if (collect_build_id && (int)ustack->stack_id >= 0) {
		void *ids;

		/* first sighting of this stack only */
		if (bpf_map_update_elem(&ig_build_id, &ustack->stack_id,
					&__gadget_no_build_ids, BPF_NOEXIST))
			return;
		ids = bpf_map_lookup_elem(&ig_build_id, &ustack->stack_id);
		if (ids)
			bpf_get_stack(ctx, ids,
				      GADGET_USER_MAX_STACK_DEPTH *
					      sizeof(struct bpf_stack_build_id),
				      BPF_F_USER_STACK | BPF_F_USER_BUILD_ID);
	}
}

/* for tracepoint (and raw tracepoint) programs */
static __always_inline void
gadget_get_user_stack_from_tracepoint(void *ctx, struct gadget_user_stack *ustack)
{
	__gadget_fill_user_stack(ctx, ustack);
	/* pruned by the verifier unless both (frozen) params are set */
	if (collect_ustack && collect_otel_stack)
		bpf_core_unreachable();
}

/* for kprobe, kretprobe, uprobe and uretprobe programs */
static __always_inline void
gadget_get_user_stack_from_kprobe(void *ctx, struct gadget_user_stack *ustack)
{
	__gadget_fill_user_stack(ctx, ustack);
}

/* for perf_event programs */
static __always_inline void
gadget_get_user_stack_from_perf_event(void *ctx, struct gadget_user_stack *ustack)
{
	__gadget_fill_user_stack(ctx, ustack);
}

/*
 * gadget_get_user_stack(ctx, ustack): the variant matching ctx's C type, as
 * IG picks it (struct bpf_perf_event_data * → perf_event, struct pt_regs * →
 * kprobe). IG refuses any other ctx type at compile time; ig is lenient and
 * treats it as a tracepoint context, which is what ig's own gadgets passed
 * before the variants existed.
 */
#define gadget_get_user_stack(ctx, ustack)                                         \
	_Generic((ctx),                                                            \
		struct bpf_perf_event_data *: gadget_get_user_stack_from_perf_event, \
		struct pt_regs *: gadget_get_user_stack_from_kprobe,               \
		default: gadget_get_user_stack_from_tracepoint)((ctx), (ustack))

/* ig's earlier name for the tracepoint variant */
#define gadget_get_user_stack_tp(ctx, ustack) \
	gadget_get_user_stack_from_tracepoint(ctx, ustack)

#endif /* __GADGET_USER_STACK_MAP_H */
