// SPDX-License-Identifier: Apache-2.0
/*
 * profile_cpu: where CPU time goes, per process. A perf_event program runs on a
 * cpu-clock sampling event on every CPU (the runtime opens them, 49 Hz by default);
 * each sample counts for the process on the CPU, split into kernel and user time.
 * Read as a topper: one table per --map-fetch-interval.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/mntns.h>
#include <gadget/types.h>

struct sample_key {
	gadget_pid pid;
	gadget_comm comm[TASK_COMM_LEN];
	gadget_mntns_id mntns_id;
};

struct sample_count {
	__u64 samples;
	__u64 kernel_samples;
	__u64 user_samples;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct sample_key);
	__type(value, struct sample_count);
} samples SEC(".maps");

GADGET_MAPITER(samples, samples);

/* Samples of the idle task (pid 0) are CPU time nobody used; keep them out unless asked. */
const volatile bool include_idle = false;
GADGET_PARAM(include_idle);

SEC("perf_event")
int ig_prof_cpu(struct bpf_perf_event_data *ctx)
{
	struct sample_key key = {};
	struct sample_count *c, zero = {};
	__u32 pid = bpf_get_current_pid_tgid() >> 32;

	if (pid == 0 && !include_idle)
		return 0;
	if (gadget_should_discard_data_current())
		return 0;
	key.pid = pid;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	key.mntns_id = gadget_get_current_mntns_id();
	c = bpf_map_lookup_elem(&samples, &key);
	if (!c) {
		bpf_map_update_elem(&samples, &key, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&samples, &key);
		if (!c)
			return 0;
	}
	__sync_fetch_and_add(&c->samples, 1);
	/* user_mode(regs): the sample interrupted user space (CS's low bits = 3). ctx->regs is
	 * read directly (the verifier rewrites that load; a probe read would see the wrapper), and
	 * as 8 bytes, the only size the verifier allows for a pt_regs slot. */
	__u64 cs = *(volatile __u64 *)((char *)&ctx->regs + __builtin_offsetof(struct pt_regs, cs));
	if ((cs & 3) == 3)
		__sync_fetch_and_add(&c->user_samples, 1);
	else
		__sync_fetch_and_add(&c->kernel_samples, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
