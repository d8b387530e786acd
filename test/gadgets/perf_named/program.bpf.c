// SPDX-License-Identifier: Apache-2.0
/* IG's perf_event/<name> section (profile_cpu's "perf_event/profiler"), a name libbpf 1.5 does not
 * know: a CPU-clock sample per event, at gadget.yaml's programs.<name>.sampler.frequency. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/types.h>

struct event {
	gadget_pid pid;
	gadget_comm comm[TASK_COMM_LEN];
};

GADGET_TRACER_MAP(events, 64 * 1024);
GADGET_TRACER(samples, events, event);

SEC("perf_event/profiler")
int profile(struct bpf_perf_event_data *ctx)
{
	struct event *e;

	if (gadget_should_discard_data_current())
		return 0;
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
