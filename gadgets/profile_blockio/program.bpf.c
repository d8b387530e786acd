// SPDX-License-Identifier: Apache-2.0
/*
 * profile_blockio: a histogram of block I/O latency (log2 slots of microseconds, or of
 * milliseconds with --ms), from the block_rq_insert/issue/complete raw tracepoints. A request is
 * timed from its insertion into the queue (or its issue to the driver with --queued off) until it
 * completes. With --per-disk one histogram per disk, with --per-flag one per operation and flags.
 */
#include <vmlinux.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include <gadget/bits.bpf.h>
#include <gadget/core_fixes.bpf.h>
#include <gadget/macros.h>
#include <gadget/types.h>

#define MAX_SLOTS 27
#define MINORBITS 20
#define MKDEV(ma, mi) (((ma) << MINORBITS) | (mi))

const volatile bool targ_per_disk = false;
GADGET_PARAM(targ_per_disk);
const volatile bool targ_per_flag = false;
GADGET_PARAM(targ_per_flag);
const volatile bool targ_queued = false;
GADGET_PARAM(targ_queued);
const volatile bool targ_ms = false;
GADGET_PARAM(targ_ms);
/* MKDEV(major, minor) of the one disk to show; 0 = all */
const volatile __u32 targ_dev = 0;
GADGET_PARAM(targ_dev);

struct hist_key {
	__u32 cmd_flags;
	/* MKDEV(major, first minor), as the kernel's dev_t (major << 20 | minor) */
	__u32 dev;
};

struct hist_value {
	gadget_histogram_slot__u32 latency[MAX_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct hist_key);
	__type(value, struct hist_value);
} hists SEC(".maps");

GADGET_MAPITER(blockio, hists);

/* request → when it was queued or issued */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct request *);
	__type(value, __u64);
} start SEC(".maps");

static struct hist_value zero_hist;

static __always_inline __u32 disk_dev(struct request *rq)
{
	struct gendisk *disk = get_disk(rq);

	return disk ? MKDEV(BPF_CORE_READ(disk, major), BPF_CORE_READ(disk, first_minor)) : 0;
}

static __always_inline int started(struct request *rq, bool issue)
{
	__u64 ts = bpf_ktime_get_ns();

	/* timing from insertion: an issue after an insert keeps the insert's time */
	if (issue && targ_queued && BPF_CORE_READ(rq, q, elevator))
		return 0;
	if (targ_dev && disk_dev(rq) != targ_dev)
		return 0;
	bpf_map_update_elem(&start, &rq, &ts, BPF_ANY);
	return 0;
}

/* the tracepoints lost their request_queue argument in 5.11 */
struct request___empty {};
struct request_queue___empty {};
typedef void (*btf_trace_block_rq_insert___new)(void *, struct request___empty *);
typedef void (*btf_trace_block_rq_issue___new)(void *, struct request___empty *);

SEC("raw_tp/block_rq_insert")
int ig_blockio_insert(__u64 *ctx)
{
	if (!targ_queued)
		return 0;
	if (bpf_core_type_matches(btf_trace_block_rq_insert___new))
		return started((struct request *)ctx[0], false);
	return started((struct request *)ctx[1], false);
}

SEC("raw_tp/block_rq_issue")
int ig_blockio_issue(__u64 *ctx)
{
	if (bpf_core_type_matches(btf_trace_block_rq_issue___new))
		return started((struct request *)ctx[0], true);
	return started((struct request *)ctx[1], true);
}

SEC("raw_tp/block_rq_complete")
int BPF_PROG(ig_blockio_done, struct request *rq, int error, unsigned int nr_bytes)
{
	__u64 *tsp, ts = bpf_ktime_get_ns();
	struct hist_key key = {};
	struct hist_value *h;
	__s64 delta;
	__u64 slot;

	tsp = bpf_map_lookup_elem(&start, &rq);
	if (!tsp)
		return 0;
	delta = (__s64)(ts - *tsp);
	bpf_map_delete_elem(&start, &rq);
	if (delta < 0)
		return 0;
	if (targ_per_disk)
		key.dev = disk_dev(rq);
	if (targ_per_flag)
		key.cmd_flags = BPF_CORE_READ(rq, cmd_flags);
	h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		bpf_map_update_elem(&hists, &key, &zero_hist, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h)
			return 0;
	}
	delta /= targ_ms ? 1000000U : 1000U;
	slot = get_slot_idx(delta);
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	__sync_fetch_and_add(&h->latency[slot], 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
