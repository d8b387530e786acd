// SPDX-License-Identifier: Apache-2.0
/*
 * emit_open: a benchmark emitter with trace_open's record (same struct, same
 * field types, so the same derived fields: timestamp, error, flags, mode).
 * Each getppid(2) of the process `target_pid` sends `per_call` (default 64, at
 * most 64) records through the ring buffer, as fast as the kernel allows.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/mntns.h>
#include <gadget/types.h>

#define FNAME_LEN 256

struct event {
	gadget_timestamp timestamp_raw;
	gadget_mntns_id mntns_id;
	gadget_pid pid;
	gadget_tid tid;
	gadget_uid uid;
	gadget_gid gid;
	gadget_comm comm[TASK_COMM_LEN];
	__s32 fd;
	gadget_errno error_raw;
	gadget_file_flags flags_raw;
	gadget_file_mode mode_raw;
	char fname[FNAME_LEN];
};

const volatile __u32 target_pid = 0;
GADGET_PARAM(target_pid);
const volatile __u32 per_call = 64;
GADGET_PARAM(per_call);

/* a typical path (45 characters) */
const char bench_path[] = "/usr/lib/x86_64-linux-gnu/libbench-emit.so.1";

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(open, events, event);

SEC("tracepoint/syscalls/sys_enter_getppid")
int emit_open(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 pid = pid_tgid >> 32;
	__u64 uid_gid, mntns;

	if (pid != target_pid)
		return 0;
	uid_gid = bpf_get_current_uid_gid();
	mntns = gadget_get_current_mntns_id();
	for (__u32 i = 0; i < 64; i++) {
		struct event *e;

		if (i >= per_call)
			break;
		e = gadget_reserve_buf(&events, sizeof(*e));
		if (!e)
			continue; /* counted in events_lost_samples */
		e->timestamp_raw = bpf_ktime_get_boot_ns();
		e->mntns_id = mntns;
		e->pid = pid;
		e->tid = (__u32)pid_tgid;
		e->uid = (__u32)uid_gid;
		e->gid = uid_gid >> 32;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		e->fd = 3 + i;
		e->error_raw = 0;
		e->flags_raw = 0x80000; /* O_RDONLY|O_CLOEXEC */
		e->mode_raw = 0;
		bpf_probe_read_kernel_str(e->fname, sizeof(e->fname), bench_path);
		gadget_submit_buf(ctx, &events, e, sizeof(*e));
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
