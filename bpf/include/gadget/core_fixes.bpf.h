/* SPDX-License-Identifier: Apache-2.0 */
/* gadget/core_fixes.bpf.h - CO-RE shims for fields renamed across kernels. */
#ifndef __GADGET_CORE_FIXES_BPF_H
#define __GADGET_CORE_FIXES_BPF_H

#include <vmlinux.h>
#include <bpf/bpf_core_read.h>

/* task_struct::state became __state in 5.14 */
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

/* block_rq_* tracepoints lost rwbs' neighbour `rq_disk` in 5.17; gadgets that
 * need it check bpf_core_field_exists themselves. */
struct trace_event_raw_block_rq_complete___gadget_x {
	dev_t dev;
	sector_t sector;
	unsigned int nr_sector;
} __attribute__((preserve_access_index));

/* bio::bi_disk → bi_bdev->bd_disk (5.12) */
struct bio___gadget_o {
	struct gendisk *bi_disk;
} __attribute__((preserve_access_index));

static __always_inline struct gendisk *get_disk(void *bio)
{
	struct bio___gadget_o *b = bio;

	if (bpf_core_field_exists(b->bi_disk))
		return BPF_CORE_READ(b, bi_disk);
	return BPF_CORE_READ((struct bio *)bio, bi_bdev, bd_disk);
}

#endif /* __GADGET_CORE_FIXES_BPF_H */
