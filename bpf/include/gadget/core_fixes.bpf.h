/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gadget/core_fixes.bpf.h - CO-RE shims for kernel fields and tracepoints
 * renamed or reshaped across kernel versions, with Inspektor Gadget's names.
 *
 * Each shim declares "flavor" structs (name___suffix, preserve_access_index)
 * holding only the fields of one kernel generation; libbpf matches them to the
 * running kernel's type of the same base name, and bpf_core_field_exists() /
 * bpf_core_type_exists() pick the generation at load time.
 */
#ifndef __GADGET_CORE_FIXES_BPF_H
#define __GADGET_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

/*
 * bpf_core_unreachable(): a call the verifier always refuses ("invalid func
 * unknown#195896080"), the same poisoned call libbpf writes in place of a
 * CO-RE relocation that failed. Put it on a branch that must be dead on every
 * supported kernel: if it is not pruned, loading fails instead of the program
 * running on a layout it does not understand.
 */
static void (*bpf_core_unreachable)(void) = (void *)0xbad2310;

/* task_struct::state became unsigned int __state in 5.14 */
struct task_struct___gadget_o {
	volatile long int state;
} __attribute__((preserve_access_index));

struct task_struct___gadget_x {
	unsigned int __state;
} __attribute__((preserve_access_index));

static __always_inline __s64 get_task_state(void *task)
{
	struct task_struct___gadget_x *t = task;

	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___gadget_o *)task, state);
}

/* bio::bi_disk was replaced by bi_bdev (a block_device) in 5.12 */
struct bio___gadget_o {
	struct gendisk *bi_disk;
} __attribute__((preserve_access_index));

struct bio___gadget_x {
	struct block_device *bi_bdev;
} __attribute__((preserve_access_index));

/* the gendisk a bio is for */
static __always_inline struct gendisk *get_gendisk(void *bio)
{
	struct bio___gadget_x *b = bio;

	if (bpf_core_field_exists(b->bi_bdev))
		return BPF_CORE_READ(b, bi_bdev, bd_disk);
	return BPF_CORE_READ((struct bio___gadget_o *)bio, bi_disk);
}

/* block_rq_complete's event struct was renamed block_rq_completion in 6.5
 * (when block_rq_error started sharing it) */
struct trace_event_raw_block_rq_complete___x {
	dev_t dev;
	sector_t sector;
	unsigned int nr_sector;
} __attribute__((preserve_access_index));

struct trace_event_raw_block_rq_completion___x {
	dev_t dev;
	sector_t sector;
	unsigned int nr_sector;
} __attribute__((preserve_access_index));

static __always_inline bool has_block_rq_completion(void)
{
	return bpf_core_type_exists(struct trace_event_raw_block_rq_completion___x);
}

/* request::rq_disk was dropped in 5.17; the disk is then request->q->disk */
struct request_queue___gadget_x {
	struct gendisk *disk;
} __attribute__((preserve_access_index));

struct request___gadget_x {
	struct request_queue___gadget_x *q;
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

/* the gendisk a struct request is for */
static __always_inline struct gendisk *get_disk(void *request)
{
	struct request___gadget_x *r = request;

	if (bpf_core_field_exists(r->rq_disk))
		return BPF_CORE_READ(r, rq_disk);
	return BPF_CORE_READ(r, q, disk);
}

/* idmapped mounts (5.12) put a user namespace first in vfs_create() and
 * friends; struct renamedata grew old_mnt_userns at the same time */
struct renamedata___gadget_x {
	struct user_namespace *old_mnt_userns;
} __attribute__((preserve_access_index));

static __always_inline bool renamedata_has_old_mnt_userns_field(void)
{
	return bpf_core_field_exists(struct renamedata___gadget_x, old_mnt_userns);
}

/* kmem_free became kfree / kmem_cache_free events in 5.12 */
struct trace_event_raw_kmem_free___x {
	const void *ptr;
} __attribute__((preserve_access_index));

struct trace_event_raw_kfree___x {
	const void *ptr;
} __attribute__((preserve_access_index));

struct trace_event_raw_kmem_cache_free___x {
	const void *ptr;
} __attribute__((preserve_access_index));

static __always_inline bool has_kfree(void)
{
	return bpf_core_type_exists(struct trace_event_raw_kfree___x);
}

static __always_inline bool has_kmem_cache_free(void)
{
	return bpf_core_type_exists(struct trace_event_raw_kmem_cache_free___x);
}

/* tcp_retransmit_skb got its own event struct (with an err field) in newer
 * and some distribution kernels; older ones share tcp_event_sk_skb */
struct trace_event_raw_tcp_retransmit_skb___x {
	const void *skbaddr;
	const void *skaddr;
} __attribute__((preserve_access_index));

struct trace_event_raw_tcp_event_sk_skb___gadget {
	const void *skbaddr;
	const void *skaddr;
} __attribute__((preserve_access_index));

static __always_inline const struct sk_buff *
gadget_get_tcp_retransmit_skb_skbaddr(void *ctx)
{
	if (bpf_core_type_exists(struct trace_event_raw_tcp_retransmit_skb___x))
		return BPF_CORE_READ((struct trace_event_raw_tcp_retransmit_skb___x *)ctx,
				     skbaddr);
	return BPF_CORE_READ((struct trace_event_raw_tcp_event_sk_skb___gadget *)ctx,
			     skbaddr);
}

static __always_inline const struct sock *
gadget_get_tcp_retransmit_skb_skaddr(void *ctx)
{
	if (bpf_core_type_exists(struct trace_event_raw_tcp_retransmit_skb___x))
		return BPF_CORE_READ((struct trace_event_raw_tcp_retransmit_skb___x *)ctx,
				     skaddr);
	return BPF_CORE_READ((struct trace_event_raw_tcp_event_sk_skb___gadget *)ctx,
			     skaddr);
}

/*
 * inode ctime in nanoseconds, as stat(2) reports it (0 for a negative time).
 * Layouts: i_ctime (timespec64) before 6.6, __i_ctime 6.6-6.10,
 * i_ctime_sec + i_ctime_nsec from 6.11. From 6.13 the top bit of
 * i_ctime_nsec flags "ctime was queried" (multigrain timestamps) and is
 * not part of the time.
 */
#ifndef I_CTIME_QUERIED
#define I_CTIME_QUERIED (1U << 31)
#endif

struct inode___gadget_ctime_split {
	time64_t i_ctime_sec;
	u32 i_ctime_nsec;
} __attribute__((preserve_access_index));

struct inode___gadget_ctime_underscore {
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));

struct inode___gadget_ctime_ts64 {
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

static __always_inline u64 gadget_get_ctime_nanosec_from_inode(struct inode *inode)
{
	struct inode___gadget_ctime_split *split = (void *)inode;
	struct inode___gadget_ctime_underscore *under = (void *)inode;
	struct inode___gadget_ctime_ts64 *ts = (void *)inode;
	s64 sec;
	u32 nsec;

	if (bpf_core_field_exists(split->i_ctime_sec)) {
		sec = BPF_CORE_READ(split, i_ctime_sec);
		nsec = BPF_CORE_READ(split, i_ctime_nsec);
	} else if (bpf_core_field_exists(under->__i_ctime)) {
		sec = BPF_CORE_READ(under, __i_ctime.tv_sec);
		nsec = BPF_CORE_READ(under, __i_ctime.tv_nsec);
	} else {
		sec = BPF_CORE_READ(ts, i_ctime.tv_sec);
		nsec = BPF_CORE_READ(ts, i_ctime.tv_nsec);
	}
	if (sec < 0)
		return 0;
	return (u64)sec * 1000000000ULL + (nsec & ~I_CTIME_QUERIED);
}

/*
 * The syscall number and arguments from the pt_regs a syscall entered with
 * (e.g. the regs argument of raw_syscalls/sys_enter). pt_regs differs per
 * architecture and CO-RE cannot bridge that, so this is chosen at compile time.
 */
static __always_inline long gadget_get_syscall_nr(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return BPF_CORE_READ(regs, orig_ax);
#elif defined(__TARGET_ARCH_arm64)
	return (long)BPF_CORE_READ(regs, syscallno);
#else
	return -1;
#endif
}

/* argument arg_id (1..6) of the syscall, 0 for any other arg_id */
static __always_inline unsigned long
gadget_get_syscall_arg(struct pt_regs *regs, unsigned int arg_id)
{
	switch (arg_id) {
	case 1: return PT_REGS_PARM1_CORE_SYSCALL(regs);
	case 2: return PT_REGS_PARM2_CORE_SYSCALL(regs);
	case 3: return PT_REGS_PARM3_CORE_SYSCALL(regs);
	case 4: return PT_REGS_PARM4_CORE_SYSCALL(regs);
	case 5: return PT_REGS_PARM5_CORE_SYSCALL(regs);
	case 6: return PT_REGS_PARM6_CORE_SYSCALL(regs);
	default: return 0;
	}
}

#endif /* __GADGET_CORE_FIXES_BPF_H */
