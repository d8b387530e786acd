// SPDX-License-Identifier: Apache-2.0
/* Marker convention tracer: GADGET_TRACER(getcwd, events, event) +
 * GADGET_TRACER_MAP, events through gadget_reserve_buf/gadget_submit_buf
 * (so --force-perf-buffer works). One event per getcwd(2) (trigger:
 * /bin/pwd -P). Params: the filter.h ones (--pid --tid --uid --gid --comm),
 * `multiplier` (u32, default 1: counter = n * multiplier) and `tag`
 * (char[16], default "default", copied into each event). */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/mntns.h>
#include <gadget/types.h>

struct event {
	gadget_timestamp timestamp_raw;
	gadget_mntns_id mntns_id;
	gadget_pid pid;
	gadget_tid tid;
	gadget_uid uid;
	gadget_comm comm[TASK_COMM_LEN];
	char tag[16];
	__u64 counter;
};

const volatile __u32 multiplier = 1;
GADGET_PARAM(multiplier);
const volatile char tag[16] = "default";
GADGET_PARAM(tag);

__u64 n = 0;

GADGET_TRACER_MAP(events, 256 * 1024);
GADGET_TRACER(getcwd, events, event);

SEC("tracepoint/syscalls/sys_enter_getcwd")
int marker_tracer(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct event *e;

	if (gadget_should_discard_data_current())
		return 0;
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	e->timestamp_raw = bpf_ktime_get_boot_ns();
	e->mntns_id = gadget_get_current_mntns_id();
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	for (int i = 0; i < 16; i++)
		e->tag[i] = tag[i];
	e->counter = __sync_add_and_fetch(&n, 1) * multiplier;
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
