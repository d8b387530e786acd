// SPDX-License-Identifier: Apache-2.0
/* A USDT probe by library name: libstdc++'s libstdcxx:throw (SEC("usdt/libstdc++:libstdcxx:throw")),
 * one event per C++ exception thrown. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>

struct event {
	gadget_pid pid;
	gadget_comm comm[TASK_COMM_LEN];
};

GADGET_TRACER_MAP(events, 64 * 1024);
GADGET_TRACER(throws, events, event);

SEC("usdt/libstdc++:libstdcxx:throw")
int on_throw(struct pt_regs *ctx)
{
	struct event *e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
