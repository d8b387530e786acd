// SPDX-License-Identifier: Apache-2.0
/* trace_mount: mount(2) and umount2(2) calls with their result. The userspace part, as in
 * IG, is a wasm module (program.c): the flags' names and the call as text. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include <gadget/buffer.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/mntns.h>
#include <gadget/types.h>

#define PATH_LEN 256
#define FS_LEN 32
#define DATA_LEN 128

enum op { MOUNT, UMOUNT };

struct args_t {
	__u64 src;
	__u64 dest;
	__u64 fs;
	__u64 data;
	__u64 flags;
	enum op op;
};

struct event {
	gadget_timestamp timestamp_raw;
	gadget_mntns_id mntns_id;
	gadget_pid pid;
	gadget_tid tid;
	gadget_uid uid;
	gadget_gid gid;
	gadget_comm comm[TASK_COMM_LEN];
	enum op op_raw;
	/* mount(2)'s MS_* or umount2(2)'s MNT_* flags: the wasm module (program.c) names them in
	 * `flags` and writes the whole call in `call` */
	__u64 flags_raw;
	gadget_errno error_raw;
	gadget_duration delta; /* ns spent in the syscall */
	char src[PATH_LEN];
	char dest[PATH_LEN];
	char fs[FS_LEN];
	char data[DATA_LEN];
};

struct start_t {
	struct args_t args;
	__u64 ts;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct start_t);
} start SEC(".maps");

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(mount, events, event);

static __always_inline int enter_mount(struct args_t *a)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct start_t s = {};

	if (gadget_should_discard_data_current())
		return 0;
	s.args = *a;
	s.ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &tid, &s, BPF_ANY);
	return 0;
}

static __always_inline int exit_mount(void *ctx, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	__u32 tid = (__u32)pid_tgid;
	struct start_t *s;
	struct event *e;

	s = bpf_map_lookup_elem(&start, &tid);
	if (!s)
		return 0;
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		goto cleanup;
	e->timestamp_raw = bpf_ktime_get_boot_ns();
	e->delta = bpf_ktime_get_ns() - s->ts;
	e->mntns_id = gadget_get_current_mntns_id();
	e->pid = pid_tgid >> 32;
	e->tid = tid;
	e->uid = (__u32)uid_gid;
	e->gid = uid_gid >> 32;
	gadget_get_current_comm(e->comm);
	e->op_raw = s->args.op;
	e->flags_raw = s->args.flags;
	e->error_raw = ret < 0 ? -ret : 0;
	e->src[0] = e->dest[0] = e->fs[0] = e->data[0] = '\0';
	if (s->args.src)
		bpf_probe_read_user_str(e->src, sizeof(e->src), (void *)s->args.src);
	if (s->args.dest)
		bpf_probe_read_user_str(e->dest, sizeof(e->dest), (void *)s->args.dest);
	if (s->args.fs)
		bpf_probe_read_user_str(e->fs, sizeof(e->fs), (void *)s->args.fs);
	/* data is filesystem specific; most take a text option string */
	if (s->args.data)
		bpf_probe_read_user_str(e->data, sizeof(e->data), (void *)s->args.data);
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
cleanup:
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_mount")
int ig_mount_e(struct syscall_trace_enter *ctx)
{
	struct args_t a = {
		.src = ctx->args[0],
		.dest = ctx->args[1],
		.fs = ctx->args[2],
		.flags = ctx->args[3],
		.data = ctx->args[4],
		.op = MOUNT,
	};
	return enter_mount(&a);
}

/* the umount2 syscall's tracepoint is named sys_enter_umount */
SEC("tracepoint/syscalls/sys_enter_umount")
int ig_umount_e(struct syscall_trace_enter *ctx)
{
	struct args_t a = {
		.dest = ctx->args[0],
		.flags = ctx->args[1],
		.op = UMOUNT,
	};
	return enter_mount(&a);
}

SEC("tracepoint/syscalls/sys_exit_mount")
int ig_mount_x(struct syscall_trace_exit *ctx)
{
	return exit_mount(ctx, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_umount")
int ig_umount_x(struct syscall_trace_exit *ctx)
{
	return exit_mount(ctx, ctx->ret);
}

char LICENSE[] SEC("license") = "GPL";
