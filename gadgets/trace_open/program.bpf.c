// SPDX-License-Identifier: Apache-2.0
/*
 * trace_open: every open(2), openat(2) and openat2(2), with its result.
 * The exit tracepoint builds the event (so fd/error are known). Where the
 * kernel has bpf_task_pt_regs() (Linux 5.15+), it reads the arguments back
 * from the registers the syscall entry saved and the enter programs return at
 * once; before that, the enter tracepoint saves them per thread in `start`.
 * A hash map update, lookup and delete per open were a third of what the
 * gadget cost the traced task.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <gadget/buffer.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/mntns.h>
#include <gadget/pidns.h>
#include <gadget/types.h>

#define FNAME_LEN 256

struct args_t {
	const char *fname;
	__u32 flags;
	__u32 mode;
};

struct event {
	gadget_timestamp timestamp_raw;
	gadget_mntns_id mntns_id;
	gadget_pid pid;
	gadget_tid tid;
	/* the same process as its pid namespace sees it (a container's view) */
	gadget_pidns_id pidns_id;
	gadget_ns_pid ns_pid;
	gadget_ns_tid ns_tid;
	gadget_uid uid;
	gadget_gid gid;
	gadget_comm comm[TASK_COMM_LEN];
	__s32 fd;
	gadget_errno error_raw;
	gadget_file_flags flags_raw;
	gadget_file_mode mode_raw;
	char fname[FNAME_LEN];
};

/* --failed: show only failed opens */
const volatile bool targ_failed = false;
GADGET_PARAM(targ_failed);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32); /* thread id */
	__type(value, struct args_t);
} start SEC(".maps");

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(open, events, event);

/* constant once loaded: CO-RE resolves it against the kernel's own enum */
static __always_inline bool args_at_exit(void)
{
	return bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs);
}

/* the registers the syscall entry saved; the arguments are still there at exit */
static __always_inline struct pt_regs *syscall_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

static __always_inline int trace_enter(const char *fname, __u32 flags, __u32 mode)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct args_t args = {};

	if (gadget_should_discard_data_current())
		return 0;

	args.fname = fname;
	args.flags = flags;
	args.mode = mode;
	bpf_map_update_elem(&start, &tid, &args, BPF_ANY);
	return 0;
}

/*
 * hot: openat(2), nearly every open: the task read with plain loads, which run
 * faster and take the verifier ~5 ms longer per program (gadget/task_btf.h);
 * open(2) and openat2(2) are rare, so their programs read it through helpers
 * and ig starts sooner.
 */
static __always_inline void emit(void *ctx, long ret, const char *fname, __u32 flags, __u32 mode, bool hot)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid;
	struct event *e;

	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return;

	uid_gid = hot ? gadget_get_current_uid_gid() : bpf_get_current_uid_gid();
	e->timestamp_raw = bpf_ktime_get_boot_ns();
	e->mntns_id = hot ? gadget_get_current_mntns_id() : gadget_get_current_mntns_id_probed();
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	if (hot)
		gadget_get_current_pidns(&e->pidns_id, &e->ns_pid, &e->ns_tid, 0);
	else
		gadget_get_current_pidns_probed(&e->pidns_id, &e->ns_pid, &e->ns_tid, 0);
	e->uid = (__u32)uid_gid;
	e->gid = uid_gid >> 32;
	gadget_get_current_comm(e->comm);
	if (ret >= 0) {
		e->fd = ret;
		e->error_raw = 0;
	} else {
		e->fd = -1;
		e->error_raw = -ret;
	}
	e->flags_raw = flags;
	e->mode_raw = mode;
	if (bpf_probe_read_user_str(e->fname, sizeof(e->fname), fname) < 0)
		e->fname[0] = '\0';

	gadget_submit_buf(ctx, &events, e, sizeof(*e));
}

/* before bpf_task_pt_regs(): the arguments the enter program saved */
static __always_inline int trace_exit(void *ctx, long ret, bool hot)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct args_t *ap;

	ap = bpf_map_lookup_elem(&start, &tid);
	if (!ap)
		return 0; /* enter not seen or filtered out */
	if (!targ_failed || ret < 0)
		emit(ctx, ret, ap->fname, ap->flags, ap->mode, hot);
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

/* with bpf_task_pt_regs(): whether this exit makes no event (the filters the enter program applied before) */
static __always_inline bool skip_exit(long ret)
{
	return (targ_failed && ret >= 0) || gadget_should_discard_data_current();
}

SEC("tracepoint/syscalls/sys_enter_open")
int ig_open_e(struct syscall_trace_enter *ctx)
{
	if (args_at_exit())
		return 0;
	return trace_enter((const char *)ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int ig_openat_e(struct syscall_trace_enter *ctx)
{
	if (args_at_exit())
		return 0;
	return trace_enter((const char *)ctx->args[1], ctx->args[2], ctx->args[3]);
}

/* openat2's flags and mode are in the struct open_how it points to */
static __always_inline void read_open_how(const void *uhow, __u32 *flags, __u32 *mode)
{
	struct open_how how = {};

	bpf_probe_read_user(&how, sizeof(how), uhow);
	*flags = how.flags;
	*mode = how.mode;
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int ig_openat2_e(struct syscall_trace_enter *ctx)
{
	__u32 flags, mode;

	if (args_at_exit())
		return 0;
	/* args: dfd, filename, struct open_how *how, size */
	read_open_how((const void *)ctx->args[2], &flags, &mode);
	return trace_enter((const char *)ctx->args[1], flags, mode);
}

/* open(filename, flags, mode) or openat(dfd, filename, flags, mode) */
static __always_inline int open_exit(struct syscall_trace_exit *ctx, bool at)
{
	struct pt_regs *regs;

	if (!args_at_exit())
		return trace_exit(ctx, ctx->ret, at);
	if (skip_exit(ctx->ret))
		return 0;
	regs = syscall_regs();
	if (at)
		emit(ctx, ctx->ret, (const char *)PT_REGS_PARM2_SYSCALL(regs), PT_REGS_PARM3_SYSCALL(regs),
		     PT_REGS_PARM4_SYSCALL(regs), true);
	else
		emit(ctx, ctx->ret, (const char *)PT_REGS_PARM1_SYSCALL(regs), PT_REGS_PARM2_SYSCALL(regs),
		     PT_REGS_PARM3_SYSCALL(regs), false);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_open")
int ig_open_x(struct syscall_trace_exit *ctx)
{
	return open_exit(ctx, false);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int ig_openat_x(struct syscall_trace_exit *ctx)
{
	return open_exit(ctx, true);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int ig_openat2_x(struct syscall_trace_exit *ctx)
{
	struct pt_regs *regs;
	__u32 flags, mode;

	if (!args_at_exit())
		return trace_exit(ctx, ctx->ret, false);
	if (skip_exit(ctx->ret))
		return 0;
	/* openat2(dfd, filename, how, size) */
	regs = syscall_regs();
	read_open_how((const void *)PT_REGS_PARM3_SYSCALL(regs), &flags, &mode);
	emit(ctx, ctx->ret, (const char *)PT_REGS_PARM2_SYSCALL(regs), flags, mode, false);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
