// SPDX-License-Identifier: Apache-2.0
/*
 * trace_exec: every execve(2)/execveat(2) with its arguments and result.
 * Enter: argv (up to TOTAL_MAX_ARGS arguments, each up to ARGSIZE bytes) is
 * copied, each argument ending with its NUL, into a per-thread entry. Exit:
 * the result, the new comm and the executable's path are added and, when the
 * exec succeeded, the whole argv is read again from the new process (up to
 * FULL_MAX_ARGS_ARR bytes, however many arguments); the entry is sent. The
 * userspace part, as in IG, is a wasm module (program.c): it joins the
 * arguments and counts them.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include <gadget/buffer.h>
#include <gadget/filesystem.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/mntns.h>
#include <gadget/types.h>
#include <gadget/pidns.h>

#define ARGSIZE 256
#define TOTAL_MAX_ARGS 20
#define FULL_MAX_ARGS_ARR (TOTAL_MAX_ARGS * ARGSIZE)
#define LAST_ARG (FULL_MAX_ARGS_ARR - ARGSIZE)

struct event {
	gadget_timestamp timestamp_raw;
	gadget_mntns_id mntns_id;
	gadget_pid pid;
	gadget_tid tid;
	gadget_ppid ppid;
	/* the same process as its pid namespace sees it (a container's view) */
	gadget_pidns_id pidns_id;
	gadget_ns_pid ns_pid;
	gadget_ns_tid ns_tid;
	gadget_ns_ppid ns_ppid;
	gadget_uid uid;
	gadget_gid gid;
	gadget_comm comm[TASK_COMM_LEN];
	gadget_pcomm pcomm[TASK_COMM_LEN];
	__s32 retval;
	gadget_errno error_raw;
	__u32 args_count;
	__u32 args_size;
	char exepath[GADGET_PATH_MAX];
	char args[FULL_MAX_ARGS_ARR];
};

/* --failed: only failed execs */
const volatile bool targ_failed = false;
GADGET_PARAM(targ_failed);

static const struct event empty_event = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32); /* thread id */
	__type(value, struct event);
} execs SEC(".maps");

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(exec, events, event);

static __always_inline int enter_exec(const char *filename,
				      const char *const *argv)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct event *e;
	const char *argp;
	int i;
	long n;

	if (gadget_should_discard_data_current())
		return 0;
	if (bpf_map_update_elem(&execs, &tid, &empty_event, BPF_ANY))
		return 0;
	e = bpf_map_lookup_elem(&execs, &tid);
	if (!e)
		return 0;

	/* argv, each argument with its NUL; a missing argv[0] becomes the file name */
	e->args_size = 0;
	e->args_count = 0;
	for (i = 0; i < TOTAL_MAX_ARGS; i++) {
		__u32 off = e->args_size;

		if (off > LAST_ARG)
			break;
		if (bpf_probe_read_user(&argp, sizeof(argp), &argv[i]) || !argp) {
			if (i > 0)
				break;
			argp = filename;
		}
		n = bpf_probe_read_user_str(&e->args[off], ARGSIZE, argp);
		if (n <= 0)
			break;
		e->args_size = off + n;
		e->args_count++;
	}
	return 0;
}

static __always_inline int exit_exec(void *ctx, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	__u32 tid = (__u32)pid_tgid;
	struct task_struct *task, *parent;
	struct event *e;

	e = bpf_map_lookup_elem(&execs, &tid);
	if (!e)
		return 0;
	if (targ_failed && ret >= 0)
		goto cleanup;

	task = (struct task_struct *)bpf_get_current_task();
	parent = BPF_CORE_READ(task, real_parent);
	e->timestamp_raw = bpf_ktime_get_boot_ns();
	e->mntns_id = gadget_get_current_mntns_id();
	e->pid = pid_tgid >> 32;
	e->tid = tid;
	e->ppid = BPF_CORE_READ(parent, tgid);
	gadget_get_current_pidns(&e->pidns_id, &e->ns_pid, &e->ns_tid, &e->ns_ppid);
	e->uid = (__u32)uid_gid;
	e->gid = uid_gid >> 32;
	gadget_get_current_comm(e->comm);
	bpf_probe_read_kernel_str(e->pcomm, sizeof(e->pcomm), parent->comm);
	e->retval = ret;
	e->error_raw = ret < 0 ? -ret : 0;
	e->exepath[0] = '\0';
	if (ret == 0) {
		struct file *exe = BPF_CORE_READ(task, mm, exe_file);
		__u64 start = BPF_CORE_READ(task, mm, arg_start);
		__u64 size = BPF_CORE_READ(task, mm, arg_end) - start;

		/* the whole argv as the new program got it */
		if (size > FULL_MAX_ARGS_ARR)
			size = FULL_MAX_ARGS_ARR;
		if (size > 0 && !bpf_probe_read_user(e->args, size, (void *)start))
			e->args_size = size;

		if (exe) {
			struct path p = BPF_CORE_READ(exe, f_path);
			char *s = get_path_str(&p);

			if (s)
				bpf_probe_read_kernel_str(e->exepath,
							  sizeof(e->exepath), s);
		}
	}
	gadget_output_buf(ctx, &events, e, sizeof(*e));
cleanup:
	bpf_map_delete_elem(&execs, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int ig_execve_e(struct syscall_trace_enter *ctx)
{
	return enter_exec((const char *)ctx->args[0],
			  (const char *const *)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int ig_execveat_e(struct syscall_trace_enter *ctx)
{
	return enter_exec((const char *)ctx->args[1],
			  (const char *const *)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_execve")
int ig_execve_x(struct syscall_trace_exit *ctx)
{
	return exit_exec(ctx, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int ig_execveat_x(struct syscall_trace_exit *ctx)
{
	return exit_exec(ctx, ctx->ret);
}

char LICENSE[] SEC("license") = "GPL";
