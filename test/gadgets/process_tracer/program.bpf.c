// SPDX-License-Identifier: Apache-2.0
/* A tracer whose event holds IG's struct gadget_process (gadget/common.h):
 * fields proc.comm, proc.pid, proc.tid, proc.mntns_id, proc.creds.uid,
 * proc.creds.gid, proc.parent.comm, proc.parent.pid, proc.parent.tid, then
 * `size` (getcwd's size argument). One event per getcwd(2) (trigger:
 * /bin/pwd -P; --comm pwd filters). Columns are headed by the member names
 * (COMM, PID, UID, …), as IG heads them. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/common.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/types.h>

struct event {
	struct gadget_process proc;
	__u64 size;
};

GADGET_TRACER_MAP(events, 256 * 1024);
GADGET_TRACER(getcwd, events, event);

SEC("tracepoint/syscalls/sys_enter_getcwd")
int process_tracer(struct syscall_trace_enter *ctx)
{
	struct event *e;

	if (gadget_should_discard_data_current())
		return 0;
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	gadget_process_populate(&e->proc);
	e->size = ctx->args[1];
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
