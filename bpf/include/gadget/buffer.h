/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gadget/buffer.h - sending events to user space.
 *
 *   GADGET_TRACER_MAP(events, 1024 * 256);
 *   GADGET_TRACER(open, events, event);
 *   ...
 *   struct event *e = gadget_reserve_buf(&events, sizeof(*e));
 *   if (!e) return 0;
 *   ... fill e ...
 *   gadget_submit_buf(ctx, &events, e, sizeof(*e));
 *
 * GADGET_TRACER_MAP(name, size) declares:
 *   - `name`: a BPF_MAP_TYPE_RINGBUF of `size` bytes (a power of 2, page multiple);
 *   - `name##_lost_samples`: a PERCPU_ARRAY (1 entry, u32 key, u64 value) counting
 *     events that could not be reserved/sent; the runtime sums it per CPU;
 *   - the marker `gadget_map_tracer_<name>`.
 *
 * Perf fallback. `gadget_buffer_use_perf` lives in .rodata. The runtime sets it
 * to true where the kernel has no ring buffer (or on --force-perf-buffer) and at
 * the same time turns every tracer map into a PERF_EVENT_ARRAY (key/value size 4,
 * max_entries 0 = number of CPUs). Then gadget_reserve_buf() hands out the
 * per-CPU scratch buffer `gadget_heap` (GADGET_MAX_EVENT_SIZE bytes) and
 * gadget_submit_buf() copies it out with bpf_perf_event_output(). .rodata is
 * frozen before load, so the verifier sees a constant and never walks the
 * untaken branch: ring buffer helpers are never verified against a perf map
 * and vice versa.
 *
 * Adaptive wakeups (ring buffer mode). A wakeup per record dominates tracing
 * cost. gadget_submit_buf() submits with BPF_RB_NO_WAKEUP unless more than
 * `gadget_ringbuf_wakeup_bytes` (.rodata, default 64 KiB) are waiting, in which
 * case it forces a wakeup. 0 restores the kernel's default policy (wake when the
 * consumer has caught up). The consumer polls with a 10 ms timeout and drains
 * regardless, so latency stays <= 10 ms.
 *
 * How the lost-samples map is found from `&events`: GADGET_TRACER_MAP gives the
 * ring buffer map a named struct type and defines a clang `overloadable`
 * function on that type returning `&name##_lost_samples`. gadget_reserve_buf()
 * and friends are macros that call it on their map argument; for a map not
 * declared with GADGET_TRACER_MAP the generic overload returns NULL and no count
 * is kept. (Requires clang; IG gadgets are built with clang.)
 */
#ifndef __GADGET_BUFFER_H
#define __GADGET_BUFFER_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* Size of the per-CPU scratch buffer used in perf mode: the largest event a
 * gadget may send through gadget_reserve_buf(). Override before including. */
#ifndef GADGET_MAX_EVENT_SIZE
#ifdef MAX_EVENT_SIZE
#define GADGET_MAX_EVENT_SIZE MAX_EVENT_SIZE
#else
#define GADGET_MAX_EVENT_SIZE 10240
#endif
#endif

/* _Bool, not bool: networking gadgets include this before anything defines bool */
const volatile _Bool gadget_buffer_use_perf = 0;
const volatile __u64 gadget_ringbuf_wakeup_bytes = 65536;

#define GADGET_TRACER_MAP(name, size)                                          \
	struct __gadget_tracer_map_##name {                                    \
		__uint(type, BPF_MAP_TYPE_RINGBUF);                            \
		__uint(max_entries, size);                                     \
	} name SEC(".maps");                                                   \
	struct {                                                               \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                       \
		__uint(max_entries, 1);                                        \
		__type(key, __u32);                                            \
		__type(value, __u64);                                          \
	} name##_lost_samples SEC(".maps");                                    \
	static __always_inline __attribute__((overloadable)) void *            \
	__gadget_lost_map_of(struct __gadget_tracer_map_##name *m)             \
	{                                                                      \
		return &name##_lost_samples;                                   \
	}                                                                      \
	const void *gadget_map_tracer_##name __attribute__((unused));

/* generic overload: a map not declared by GADGET_TRACER_MAP */
static __always_inline __attribute__((overloadable)) void *
__gadget_lost_map_of(void *m)
{
	return (void *)0;
}

#ifndef GADGET_NO_BUF_RESERVE
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, GADGET_MAX_EVENT_SIZE);
} gadget_heap SEC(".maps");
#endif

static __always_inline void __gadget_count_lost(void *lost_map)
{
	__u32 zero = 0;
	__u64 *n;

	if (!lost_map)
		return;
	n = bpf_map_lookup_elem(lost_map, &zero);
	if (n)
		*n += 1; /* per-CPU value: no atomics needed */
}

/* wakeup policy of a ring buffer submission (see "Adaptive wakeups" above);
 * outside GADGET_NO_BUF_RESERVE because gadget_output_buf() uses it too */
static __always_inline __u64 __gadget_rb_flags(void *map)
{
	if (gadget_ringbuf_wakeup_bytes == 0)
		return 0;
	if (bpf_ringbuf_query(map, BPF_RB_AVAIL_DATA) >
	    gadget_ringbuf_wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

#ifndef GADGET_NO_BUF_RESERVE
static __always_inline void *__gadget_reserve_buf(void *map, __u64 size,
						  void *lost_map)
{
	__u32 zero = 0;
	void *buf;

	if (gadget_buffer_use_perf) {
		if (size > GADGET_MAX_EVENT_SIZE) {
			__gadget_count_lost(lost_map);
			return (void *)0;
		}
		buf = bpf_map_lookup_elem(&gadget_heap, &zero);
	} else {
		buf = bpf_ringbuf_reserve(map, size, 0);
	}
	if (!buf)
		__gadget_count_lost(lost_map);
	return buf;
}

static __always_inline long __gadget_submit_buf(void *ctx, void *map,
						void *buf, __u64 size,
						void *lost_map)
{
	long err;

	if (gadget_buffer_use_perf) {
		if (size > GADGET_MAX_EVENT_SIZE)
			size = GADGET_MAX_EVENT_SIZE;
		err = bpf_perf_event_output(ctx, map, BPF_F_CURRENT_CPU, buf,
					    size);
		if (err)
			__gadget_count_lost(lost_map);
		return err;
	}
	bpf_ringbuf_submit(buf, __gadget_rb_flags(map));
	return 0;
}

/* gadget_discard_buf(buf): drop a reserved buffer without sending it. No
 * wakeup: there is nothing to read (with the default policy every discard into
 * an empty ring woke the reader, one interrupt per dropped record). */
static __always_inline void gadget_discard_buf(void *buf)
{
	if (gadget_buffer_use_perf)
		return; /* scratch buffer: nothing to release */
	bpf_ringbuf_discard(buf, BPF_RB_NO_WAKEUP);
}

/* void *gadget_reserve_buf(map, size): NULL when full (counted as lost). */
#define gadget_reserve_buf(map, size) \
	__gadget_reserve_buf((map), (size), __gadget_lost_map_of(map))

/* long gadget_submit_buf(ctx, map, buf, size): send a reserved buffer. */
#define gadget_submit_buf(ctx, map, buf, size)          \
	__gadget_submit_buf((ctx), (map), (buf), (size), \
			    __gadget_lost_map_of(map))
#endif /* GADGET_NO_BUF_RESERVE */

static __always_inline long __gadget_output_buf(void *ctx, void *map,
						void *buf, __u64 size,
						void *lost_map)
{
	long err;

	if (gadget_buffer_use_perf)
		err = bpf_perf_event_output(ctx, map, BPF_F_CURRENT_CPU, buf,
					    size);
	else
		err = bpf_ringbuf_output(map, buf, size, __gadget_rb_flags(map));
	if (err)
		__gadget_count_lost(lost_map);
	return err;
}

/* long gadget_output_buf(ctx, map, buf, size): copy `buf` (e.g. on the stack)
 * out as one event. */
#define gadget_output_buf(ctx, map, buf, size)          \
	__gadget_output_buf((ctx), (map), (buf), (size), \
			    __gadget_lost_map_of(map))

#endif /* __GADGET_BUFFER_H */
