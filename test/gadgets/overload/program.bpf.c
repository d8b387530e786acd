// SPDX-License-Identifier: Apache-2.0
/* Overload: a tracer with a tiny ring buffer (4 KiB: about 56 records of 64 bytes)
 * that sends `burst` records (default 200, param --burst, at most 256) for each
 * getcwd(2) of the processes that pass the filter.h filters (use --pid). Records
 * are numbered: `call` (n-th getcwd seen, from 1) and `seq` (0..burst-1), so a test
 * that makes K calls knows exactly K*burst were emitted and can check that
 * received + lost == emitted, in ring buffer and in perf mode. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/types.h>

struct event {
	gadget_pid pid;
	__u32 call;
	__u32 seq;
	__u8 pad[52]; /* 64 bytes in all */
};

const volatile __u32 burst = 200;
GADGET_PARAM(burst);

__u32 calls = 0;

GADGET_TRACER_MAP(events, 4096);
GADGET_TRACER(overload, events, event);

SEC("tracepoint/syscalls/sys_enter_getcwd")
int overload(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u32 call;

	if (gadget_should_discard_data_current())
		return 0;
	call = ++calls; /* one traced thread at a time: no atomics needed */
	for (__u32 i = 0; i < 256; i++) {
		struct event *e;

		if (i >= burst)
			break;
		e = gadget_reserve_buf(&events, sizeof(*e));
		if (!e)
			continue; /* counted in events_lost_samples */
		e->pid = pid;
		e->call = call;
		e->seq = i;
		__builtin_memset(e->pad, 0, sizeof(e->pad));
		gadget_submit_buf(ctx, &events, e, sizeof(*e));
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
