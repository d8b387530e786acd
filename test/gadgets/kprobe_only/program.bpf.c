// SPDX-License-Identifier: Apache-2.0
/* A kprobe gadget: loads fine, but attaching must fail on a kernel without
 * CONFIG_KPROBES (ENOENT here). The runtime must say which kernel feature is
 * missing; tests expect that error, never a crash or a leak. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>

struct event {
	gadget_pid pid;
	gadget_comm comm[TASK_COMM_LEN];
};

GADGET_TRACER_MAP(events, 64 * 1024);
GADGET_TRACER(kprobe_open, events, event);

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(kprobe_only, int dfd)
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
