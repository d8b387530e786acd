/* SPDX-License-Identifier: Apache-2.0 */
/* gadget/bits.bpf.h - bit helpers (log2 and histogram slots, READ_ONCE). */
#ifndef __GADGET_BITS_BPF_H
#define __GADGET_BITS_BPF_H

#ifndef READ_ONCE
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))
#endif
#ifndef WRITE_ONCE
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x)) = (v)
#endif

/* floor(log2(v)) for v > 0, 0 for v == 0; branch-free halving */
static __always_inline __u64 log2(__u32 v)
{
	__u32 r = 0, s;

	s = (v > 0xFFFF) << 4; v >>= s; r |= s;
	s = (v > 0xFF) << 3; v >>= s; r |= s;
	s = (v > 0xF) << 2; v >>= s; r |= s;
	s = (v > 0x3) << 1; v >>= s; r |= s;
	r |= (v >> 1);
	return r;
}

static __always_inline __u64 log2l(__u64 v)
{
	__u32 hi = v >> 32;

	if (hi)
		return log2(hi) + 32;
	return log2((__u32)v);
}

/*
 * get_slot_idx(v): the histogram slot of v as IG's histogram fields count
 * them: 0 for 0, else floor(log2(v)) + 1 (slot i holds [2^(i-1), 2^i)).
 */
static __always_inline __u64 get_slot_idx(__u64 v)
{
	if (v == 0)
		return 0;
	return log2l(v) + 1;
}

#endif /* __GADGET_BITS_BPF_H */
