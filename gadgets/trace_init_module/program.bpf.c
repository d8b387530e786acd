// SPDX-License-Identifier: Apache-2.0
/*
 * trace_init_module: attempts to load a kernel module, init_module(2) and finit_module(2), with
 * their result. IG's gadget uses the syscalls/sys_enter_{f,}init_module tracepoints, which exist
 * only on kernels built with module support (CONFIG_MODULES); the raw_syscalls tracepoints fire
 * for every syscall number, implemented or not, so this gadget also shows the attempts a kernel
 * without module support refuses (ENOSYS). The arguments are kept per thread at sys_enter and the
 * event is sent at sys_exit with the return value.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/common.h>
#include <gadget/filesystem.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/types.h>

#if defined(__TARGET_ARCH_arm64)
#define NR_init_module 105
#define NR_finit_module 273
#else
#define NR_init_module 175
#define NR_finit_module 313
#endif

#define PARAM_VALUES_MAX 256

enum syscall_type {
	init_module,
	finit_module,
};

struct event {
	gadget_timestamp timestamp_raw;
	struct gadget_process proc;
	enum syscall_type syscall_raw;
	gadget_errno error_raw;
	char param_values[PARAM_VALUES_MAX];
	/* init_module: the image's length */
	__u64 len;
	/* finit_module: the file, its path, and the flags */
	__s32 fd;
	__u32 flags;
	char filepath[GADGET_PATH_MAX];
};

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(init, events, event);

/* thread id → the call's arguments, until it returns */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct event);
} pending SEC(".maps");

/* too big for the stack: built here */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} scratch SEC(".maps");

SEC("tracepoint/raw_syscalls/sys_enter")
int ig_init_module_e(struct trace_event_raw_sys_enter *ctx)
{
	long nr = ctx->id;
	const char *params;
	__u32 zero = 0, tid;
	struct event *e;

	if (nr != NR_init_module && nr != NR_finit_module)
		return 0;
	if (gadget_should_discard_data_current())
		return 0;
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	gadget_process_populate(&e->proc);
	e->timestamp_raw = bpf_ktime_get_boot_ns();
	if (nr == NR_init_module) {
		/* init_module(void *image, unsigned long len, const char *params) */
		e->syscall_raw = init_module;
		e->len = ctx->args[1];
		params = (const char *)ctx->args[2];
	} else {
		/* finit_module(int fd, const char *params, int flags) */
		e->syscall_raw = finit_module;
		e->fd = (__s32)ctx->args[0];
		params = (const char *)ctx->args[1];
		e->flags = (__u32)ctx->args[2];
		if (e->fd >= 0 && read_full_path_of_open_file_fd(e->fd, e->filepath, sizeof(e->filepath)) <= 0)
			e->filepath[0] = '\0';
	}
	if (params)
		bpf_probe_read_user_str(e->param_values, sizeof(e->param_values), params);
	tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&pending, &tid, e, BPF_ANY);
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int ig_init_module_x(struct trace_event_raw_sys_exit *ctx)
{
	long nr = ctx->id;
	struct event *p, *e;
	__u32 tid;

	if (nr != NR_init_module && nr != NR_finit_module)
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	p = bpf_map_lookup_elem(&pending, &tid);
	if (!p)
		return 0;
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (e) {
		bpf_probe_read_kernel(e, sizeof(*e), p);
		e->error_raw = ctx->ret < 0 ? -ctx->ret : 0;
		gadget_submit_buf(ctx, &events, e, sizeof(*e));
	}
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
