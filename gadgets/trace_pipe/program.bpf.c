// SPDX-License-Identifier: Apache-2.0
/*
 * trace_pipe: pipe(2) and pipe2(2) with the two file descriptors created.
 * Enter saves the user pointer to `int fds[2]`; exit reads it back.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include <gadget/buffer.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/mntns.h>
#include <gadget/types.h>

struct args_t {
	__u64 fds_ptr;
	__u32 flags;
};

struct event {
	gadget_timestamp timestamp_raw;
	gadget_mntns_id mntns_id;
	gadget_pid pid;
	gadget_tid tid;
	gadget_uid uid;
	gadget_gid gid;
	gadget_comm comm[TASK_COMM_LEN];
	__s32 fds[2]; /* read end, write end; -1 on failure */
	gadget_file_flags flags_raw;
	gadget_errno error_raw;
};

const volatile bool targ_failed = false;
GADGET_PARAM(targ_failed);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct args_t);
} start SEC(".maps");

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(pipe, events, event);

static __always_inline int enter_pipe(__u64 fds_ptr, __u32 flags)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct args_t a = { .fds_ptr = fds_ptr, .flags = flags };

	if (gadget_should_discard_data_current())
		return 0;
	bpf_map_update_elem(&start, &tid, &a, BPF_ANY);
	return 0;
}

static __always_inline int exit_pipe(void *ctx, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	__u32 tid = (__u32)pid_tgid;
	struct args_t *a;
	struct event *e;

	a = bpf_map_lookup_elem(&start, &tid);
	if (!a)
		return 0;
	if (targ_failed && ret >= 0)
		goto cleanup;
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		goto cleanup;
	e->timestamp_raw = bpf_ktime_get_boot_ns();
	e->mntns_id = gadget_get_current_mntns_id();
	e->pid = pid_tgid >> 32;
	e->tid = tid;
	e->uid = (__u32)uid_gid;
	e->gid = uid_gid >> 32;
	gadget_get_current_comm(e->comm);
	e->fds[0] = -1;
	e->fds[1] = -1;
	if (ret == 0 &&
	    bpf_probe_read_user(e->fds, sizeof(e->fds), (void *)a->fds_ptr)) {
		e->fds[0] = -1;
		e->fds[1] = -1;
	}
	e->flags_raw = a->flags;
	e->error_raw = ret < 0 ? -ret : 0;
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
cleanup:
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_pipe2")
int ig_pipe2_e(struct syscall_trace_enter *ctx)
{
	return enter_pipe(ctx->args[0], ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_pipe")
int ig_pipe_e(struct syscall_trace_enter *ctx)
{
	return enter_pipe(ctx->args[0], 0);
}

SEC("tracepoint/syscalls/sys_exit_pipe2")
int ig_pipe2_x(struct syscall_trace_exit *ctx)
{
	return exit_pipe(ctx, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_pipe")
int ig_pipe_x(struct syscall_trace_exit *ctx)
{
	return exit_pipe(ctx, ctx->ret);
}

char LICENSE[] SEC("license") = "GPL";
