// SPDX-License-Identifier: Apache-2.0
/*
 * profile_cpu: where CPU time goes, as stacks. A perf_event program (IG's section
 * perf_event/profiler) runs on a cpu-clock sampling event on every CPU (the runtime opens
 * them at gadget.yaml's programs.profiler.sampler.frequency, 49 Hz) and counts samples per
 * (process, kernel stack, user stack). The runtime names the kernel frames through
 * /proc/kallsyms (kern_stack) and the user frames through each binary's symbols
 * (user_stack_raw.symbols). Read as a topper: one table per --map-fetch-interval.
 * A sample taken in user space has no kernel stack (kern_stack_raw is -EFAULT, as in IG).
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <gadget/common.h>
#include <gadget/filter.h>
#include <gadget/kernel_stack_map.h>
#include <gadget/macros.h>
#include <gadget/types.h>
#include <gadget/user_stack_map.h>

/*
 * The key holds a sample's identity; the user stack's whole struct (with per-sample fields
 * such as its timestamp) goes in the value, so equal stacks add up.
 */
struct key_t {
	__u64 kernel_ip;
	__u32 user_stack_id;
	gadget_kernel_stack kern_stack_raw;
	struct gadget_process proc;
};

struct values {
	__u64 samples;
	struct gadget_user_stack user_stack_raw;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct key_t);
	__type(value, struct values);
} counts SEC(".maps");

GADGET_MAPITER(samples, counts);

/* scratch space off the 512-byte stack */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct key_t);
} tmp_key SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct values);
} tmp_values SEC(".maps");

const volatile bool kernel_stacks_only = false;
GADGET_PARAM(kernel_stacks_only);
const volatile bool user_stacks_only = false;
GADGET_PARAM(user_stacks_only);
/* samples of the idle task (pid 0) are CPU time nobody used */
const volatile bool include_idle = false;
GADGET_PARAM(include_idle);

static __always_inline bool is_kernel_addr(__u64 addr)
{
	/* x86_64 and arm64 kernels live in the upper half of the address space */
	return addr >> 63;
}

SEC("perf_event/profiler")
int ig_prof_cpu(struct bpf_perf_event_data *ctx)
{
	__u32 zero = 0;
	__u64 id = bpf_get_current_pid_tgid();
	struct key_t *key;
	struct values *val, *v;

	if (!include_idle && (__u32)id == 0)
		return 0;
	if (gadget_should_discard_data_current())
		return 0;
	key = bpf_map_lookup_elem(&tmp_key, &zero);
	val = bpf_map_lookup_elem(&tmp_values, &zero);
	if (!key || !val)
		return 0;
	__builtin_memset(key, 0, sizeof(*key));
	__builtin_memset(val, 0, sizeof(*val));
	gadget_process_populate(&key->proc);
	key->kern_stack_raw = user_stacks_only ? -1 : bpf_get_stackid(&ctx->regs, &ig_kstack, 0);
	if (!kernel_stacks_only)
		gadget_get_user_stack(ctx, &val->user_stack_raw);
	key->user_stack_id = val->user_stack_raw.stack_id;
	if (key->kern_stack_raw >= 0) {
		/* the interrupted instruction: its function is the stack's first frame */
		__u64 ip = PT_REGS_IP(&ctx->regs);

		if (is_kernel_addr(ip))
			key->kernel_ip = ip;
	}
	v = bpf_map_lookup_elem(&counts, key);
	if (v) {
		__sync_fetch_and_add(&v->samples, 1);
		return 0;
	}
	val->samples = 1;
	bpf_map_update_elem(&counts, key, val, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
