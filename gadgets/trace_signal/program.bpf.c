// SPDX-License-Identifier: Apache-2.0
/* trace_signal: signals sent with kill(2), tkill(2) and tgkill(2). */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include <gadget/buffer.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/mntns.h>
#include <gadget/types.h>

enum signal_syscall { kill, tkill, tgkill };

struct args_t {
	__s32 tpid;
	__u32 sig;
	enum signal_syscall sc;
};

struct event {
	gadget_timestamp timestamp_raw;
	gadget_mntns_id mntns_id;
	gadget_pid pid;
	gadget_tid tid;
	gadget_uid uid;
	gadget_gid gid;
	gadget_comm comm[TASK_COMM_LEN];
	__s32 tpid;
	gadget_signal sig_raw;
	gadget_errno error_raw;
	enum signal_syscall syscall;
};

const volatile bool targ_failed = false;
GADGET_PARAM(targ_failed);
/* --signal: only this signal number (0 = all) */
const volatile __u32 targ_sig = 0;
GADGET_PARAM(targ_sig);
/* --kill-only: only SIGKILL */
const volatile bool kill_only = false;
GADGET_PARAM(kill_only);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct args_t);
} values SEC(".maps");

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(signal, events, event);

static __always_inline int enter_sig(__s32 tpid, __u32 sig, enum signal_syscall sc)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct args_t a = {};

	if (kill_only && sig != 9)
		return 0;
	if (targ_sig && sig != targ_sig)
		return 0;
	if (gadget_should_discard_data_current())
		return 0;
	a.tpid = tpid;
	a.sig = sig;
	a.sc = sc;
	bpf_map_update_elem(&values, &tid, &a, BPF_ANY);
	return 0;
}

static __always_inline int exit_sig(void *ctx, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	__u32 tid = (__u32)pid_tgid;
	struct args_t *a;
	struct event *e;

	a = bpf_map_lookup_elem(&values, &tid);
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
	e->tpid = a->tpid;
	e->sig_raw = a->sig;
	e->error_raw = ret < 0 ? -ret : 0;
	e->syscall = a->sc;
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
cleanup:
	bpf_map_delete_elem(&values, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_kill")
int ig_kill_e(struct syscall_trace_enter *ctx)
{
	return enter_sig(ctx->args[0], ctx->args[1], kill);
}

SEC("tracepoint/syscalls/sys_enter_tkill")
int ig_tkill_e(struct syscall_trace_enter *ctx)
{
	return enter_sig(ctx->args[0], ctx->args[1], tkill);
}

SEC("tracepoint/syscalls/sys_enter_tgkill")
int ig_tgkill_e(struct syscall_trace_enter *ctx)
{
	/* tgkill(tgid, tid, sig): report the thread */
	return enter_sig(ctx->args[1], ctx->args[2], tgkill);
}

SEC("tracepoint/syscalls/sys_exit_kill")
int ig_kill_x(struct syscall_trace_exit *ctx)
{
	return exit_sig(ctx, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_tkill")
int ig_tkill_x(struct syscall_trace_exit *ctx)
{
	return exit_sig(ctx, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_tgkill")
int ig_tgkill_x(struct syscall_trace_exit *ctx)
{
	return exit_sig(ctx, ctx->ret);
}

char LICENSE[] SEC("license") = "GPL";
