// SPDX-License-Identifier: Apache-2.0
/*
 * emit_small: a benchmark emitter. Each getppid(2) of the process `target_pid`
 * sends `per_call` (default 64, at most 64) records of 16 bytes through the
 * ring buffer, as fast as the kernel allows. Only the bench's load generator
 * (whose pid is set in .rodata) triggers it.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>

struct event {
	__u64 value;
	__u32 pid;
	__u32 seq;
};

const volatile __u32 target_pid = 0;
GADGET_PARAM(target_pid);
const volatile __u32 per_call = 64;
GADGET_PARAM(per_call);

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(small, events, event);

SEC("tracepoint/syscalls/sys_enter_getppid")
int emit_small(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 now;

	if (pid != target_pid)
		return 0;
	now = bpf_ktime_get_boot_ns();
	for (__u32 i = 0; i < 64; i++) {
		struct event *e;

		if (i >= per_call)
			break;
		e = gadget_reserve_buf(&events, sizeof(*e));
		if (!e)
			continue; /* counted in events_lost_samples */
		e->value = now;
		e->pid = pid;
		e->seq = i;
		gadget_submit_buf(ctx, &events, e, sizeof(*e));
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
