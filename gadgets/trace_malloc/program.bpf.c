// SPDX-License-Identifier: Apache-2.0
/*
 * trace_malloc: libc's allocator calls, from uprobes and uretprobes on libc found by library name
 * (the runtime resolves `libc` per process root: the host's and each container's). An allocation
 * is reported when it returns (size kept per thread at entry, address from the return value);
 * a release when it is called. User stacks with --collect-ustack.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include <gadget/buffer.h>
#include <gadget/common.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/types.h>
#include <gadget/user_stack_map.h>

enum memop {
	malloc,
	free,
	calloc,
	realloc,
	realloc_free,
	mmap,
	munmap,
	posix_memalign,
	aligned_alloc,
	valloc,
	memalign,
	pvalloc,
};

struct event {
	gadget_timestamp timestamp_raw;
	struct gadget_process proc;
	struct gadget_user_stack ustack;
	enum memop operation_raw;
	__u64 addr;
	__u64 size;
};

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(malloc, events, event);

/* thread id → the size asked for, between an allocation's entry and return */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} sizes SEC(".maps");

/* thread id → posix_memalign's memptr argument */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} memptrs SEC(".maps");

/* a thread killed between entry and return leaves its entry behind: drop it when it exits */
SEC("tracepoint/sched/sched_process_exit")
int ig_malloc_exit(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&sizes, &tid);
	bpf_map_delete_elem(&memptrs, &tid);
	return 0;
}

static __always_inline int alloc_enter(__u64 size)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (gadget_should_discard_data_current())
		return 0;
	bpf_map_update_elem(&sizes, &tid, &size, BPF_ANY);
	return 0;
}

static __always_inline int emit(struct pt_regs *ctx, enum memop op, __u64 addr, __u64 size)
{
	struct event *e = gadget_reserve_buf(&events, sizeof(*e));

	if (!e)
		return 0;
	gadget_process_populate(&e->proc);
	e->timestamp_raw = bpf_ktime_get_boot_ns();
	e->operation_raw = op;
	e->addr = addr;
	e->size = size;
	gadget_get_user_stack(ctx, &e->ustack);
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

static __always_inline int alloc_exit(struct pt_regs *ctx, enum memop op, __u64 addr)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *size = bpf_map_lookup_elem(&sizes, &tid);
	__u64 n;

	if (!size)
		return 0;
	n = *size;
	bpf_map_delete_elem(&sizes, &tid);
	return emit(ctx, op, addr, n);
}

static __always_inline int release(struct pt_regs *ctx, enum memop op, __u64 addr)
{
	if (gadget_should_discard_data_current())
		return 0;
	return emit(ctx, op, addr, 0);
}

#define RETURN_OF(func)                                                  \
	SEC("uretprobe/libc:" #func)                                     \
	int ig_uret_##func(struct pt_regs *ctx)                          \
	{                                                                \
		return alloc_exit(ctx, func, PT_REGS_RC(ctx));           \
	}

SEC("uprobe/libc:malloc")
int BPF_UPROBE(ig_malloc, size_t size) { return alloc_enter(size); }
RETURN_OF(malloc)

SEC("uprobe/libc:free")
int BPF_UPROBE(ig_free, void *addr) { return release(ctx, free, (__u64)addr); }

SEC("uprobe/libc:calloc")
int BPF_UPROBE(ig_calloc, size_t nmemb, size_t size) { return alloc_enter(nmemb * size); }
RETURN_OF(calloc)

SEC("uprobe/libc:realloc")
int BPF_UPROBE(ig_realloc, void *addr, size_t size)
{
	if (addr)
		release(ctx, realloc_free, (__u64)addr);
	return alloc_enter(size);
}
RETURN_OF(realloc)

SEC("uprobe/libc:mmap")
int BPF_UPROBE(ig_mmap, void *addr, size_t size) { return alloc_enter(size); }
RETURN_OF(mmap)

SEC("uprobe/libc:munmap")
int BPF_UPROBE(ig_munmap, void *addr) { return release(ctx, munmap, (__u64)addr); }

SEC("uprobe/libc:posix_memalign")
int BPF_UPROBE(ig_posix_memalign, void **memptr, size_t alignment, size_t size)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 p = (__u64)memptr;

	if (gadget_should_discard_data_current())
		return 0;
	bpf_map_update_elem(&memptrs, &tid, &p, BPF_ANY);
	return alloc_enter(size);
}

SEC("uretprobe/libc:posix_memalign")
int ig_uret_posix_memalign(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *memptr = bpf_map_lookup_elem(&memptrs, &tid);
	void *addr = 0;

	if (!memptr)
		return 0;
	bpf_map_delete_elem(&memptrs, &tid);
	if (bpf_probe_read_user(&addr, sizeof(addr), (void *)*memptr))
		return 0;
	return alloc_exit(ctx, posix_memalign, (__u64)addr);
}

SEC("uprobe/libc:aligned_alloc")
int BPF_UPROBE(ig_aligned_alloc, size_t alignment, size_t size) { return alloc_enter(size); }
RETURN_OF(aligned_alloc)

SEC("uprobe/libc:valloc")
int BPF_UPROBE(ig_valloc, size_t size) { return alloc_enter(size); }
RETURN_OF(valloc)

SEC("uprobe/libc:memalign")
int BPF_UPROBE(ig_memalign, size_t alignment, size_t size) { return alloc_enter(size); }
RETURN_OF(memalign)

SEC("uprobe/libc:pvalloc")
int BPF_UPROBE(ig_pvalloc, size_t size) { return alloc_enter(size); }
RETURN_OF(pvalloc)

char LICENSE[] SEC("license") = "GPL";
