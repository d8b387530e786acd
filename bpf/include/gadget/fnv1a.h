/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gadget/fnv1a.h - FNV-1a hashes (32 and 64 bit) over integers, fed byte by
 * byte from the least significant byte (little-endian order), so user space
 * hashing the same integers gets the same value.
 */
#ifndef __GADGET_FNV1A_H
#define __GADGET_FNV1A_H

#include <bpf/bpf_helpers.h>

#define FNV1_32_INIT ((u32)2166136261u)
#define FNV1_32_PRIME ((u32)16777619u)
#define FNV1_64_INIT ((u64)14695981039346656037ull)
#define FNV1_64_PRIME ((u64)1099511628211ull)

static __always_inline u32 fnv_32a_init(void) { return FNV1_32_INIT; }
static __always_inline u64 fnv_64a_init(void) { return FNV1_64_INIT; }

/* one update function per (hash width, value width) */
#define __GADGET_FNV_UPDATE(name, htype, vtype, prime)                  \
	static __always_inline void name(htype *hash, vtype value)      \
	{                                                               \
		for (unsigned int i = 0; i < sizeof(vtype); i++) {      \
			*hash ^= (htype)((value >> (8 * i)) & 0xff);    \
			*hash *= prime;                                 \
		}                                                       \
	}

__GADGET_FNV_UPDATE(fnv_32a_update_u64, u32, u64, FNV1_32_PRIME)
__GADGET_FNV_UPDATE(fnv_32a_update_u32, u32, u32, FNV1_32_PRIME)
__GADGET_FNV_UPDATE(fnv_32a_update_u16, u32, u16, FNV1_32_PRIME)
__GADGET_FNV_UPDATE(fnv_32a_update_u8, u32, u8, FNV1_32_PRIME)
__GADGET_FNV_UPDATE(fnv_64a_update_u64, u64, u64, FNV1_64_PRIME)
__GADGET_FNV_UPDATE(fnv_64a_update_u32, u64, u32, FNV1_64_PRIME)
__GADGET_FNV_UPDATE(fnv_64a_update_u16, u64, u16, FNV1_64_PRIME)
__GADGET_FNV_UPDATE(fnv_64a_update_u8, u64, u8, FNV1_64_PRIME)

#undef __GADGET_FNV_UPDATE

#endif /* __GADGET_FNV1A_H */
