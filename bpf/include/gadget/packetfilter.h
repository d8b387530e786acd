/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gadget/packetfilter.h - a pcap-filter hook for skb programs, IG's shape.
 *
 *   GADGET_PF(name);                          // declares the hook
 *   if (!gadget_pf_matches(name, skb, data, data_end)) return 0;
 *   if (!gadget_pf_matches(skb, data, data_end)) ...   // the unnamed hook
 *
 * The hook is a separate (never inlined) function that accepts every packet.
 * A runtime supporting packet filters replaces its body with the user's
 * filter (cBPF compiled to eBPF) before loading; the skb is passed three
 * times only to pin registers R1-R3, which that conversion expects. Where no
 * filter is set the body stays and every packet matches.
 */
#ifndef __GADGET_PACKETFILTER_H
#define __GADGET_PACKETFILTER_H

#define GADGET_PF(name)                                                        \
	static __noinline bool gadget_pf_##name(void *_skb, void *__skb,       \
						void *___skb, void *data,      \
						void *data_end)                \
	{                                                                      \
		return data != data_end && _skb == __skb && __skb == ___skb;   \
	}

#define gadget_pf_matches_impl(name, skb, data, data_end) \
	gadget_pf_##name(skb, skb, skb, data, data_end)

/* gadget_pf_matches([name,] skb, data, data_end): 3 or 4 arguments */
#define __GADGET_PF_PICK(_1, _2, _3, _4, N, ...) N
#define __GADGET_PF_MATCHES_3(skb, data, data_end) \
	gadget_pf_matches_impl(, skb, data, data_end)
#define __GADGET_PF_MATCHES_4(name, skb, data, data_end) \
	gadget_pf_matches_impl(name, skb, data, data_end)
#define __GADGET_PF_MATCHES_BAD(...) \
	_Static_assert(0, "gadget_pf_matches: give ([name,] skb, data, data_end)")
#define __GADGET_PF_CAT(a, b) a##b
#define __GADGET_PF_CHOOSE(n) __GADGET_PF_CAT(__GADGET_PF_MATCHES_, n)
#define gadget_pf_matches(...)                                                    \
	__GADGET_PF_CHOOSE(__GADGET_PF_PICK(__VA_ARGS__, 4, 3, BAD, BAD, BAD))(__VA_ARGS__)

#endif /* __GADGET_PACKETFILTER_H */
