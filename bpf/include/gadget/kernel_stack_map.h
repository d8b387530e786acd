/* SPDX-License-Identifier: Apache-2.0 */
/* gadget/kernel_stack_map.h - kernel stacks, symbolised by the runtime. */
#ifndef __GADGET_KERNEL_STACK_MAP_H
#define __GADGET_KERNEL_STACK_MAP_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <gadget/types.h>

#define GADGET_KERNEL_MAX_STACK_DEPTH 127
#define GADGET_KERNEL_STACK_MAP_MAX_ENTRIES 10000

/* The runtime reads stacks from this map by the id stored in a
 * gadget_kernel_stack field. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, GADGET_KERNEL_STACK_MAP_MAX_ENTRIES);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, GADGET_KERNEL_MAX_STACK_DEPTH * sizeof(__u64));
} ig_kstack SEC(".maps");

/* stack id (>= 0) or a negative error */
static __always_inline long gadget_get_kernel_stack(void *ctx)
{
	return bpf_get_stackid(ctx, &ig_kstack, BPF_F_FAST_STACK_CMP);
}

#endif /* __GADGET_KERNEL_STACK_MAP_H */
