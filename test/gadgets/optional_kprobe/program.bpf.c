// SPDX-License-Identifier: Apache-2.0
/* A gadget with optional programs, as IG's trace_exec (its security_bprm_check kprobe adds a
 * few fields to what the tracepoints report): getcwd events from a tracepoint, `via_kprobe`
 * filled by a kprobe on the syscall's kernel function where the kernel has kprobes (else attach
 * fails), `via_fentry` by an fentry program where it has trampolines (else load fails). */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include <gadget/buffer.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/types.h>

struct event {
	gadget_pid pid;
	gadget_comm comm[TASK_COMM_LEN];
	__u64 size;
	__u64 via_kprobe;
	__u64 via_fentry;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct event);
} pending SEC(".maps");

GADGET_TRACER_MAP(events, 64 * 1024);
GADGET_TRACER(getcwd, events, event);

SEC("tracepoint/syscalls/sys_enter_getcwd")
int on_enter(struct syscall_trace_enter *ctx)
{
	struct event e = {};
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (gadget_should_discard_data_current())
		return 0;
	e.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	e.size = ctx->args[1];
	bpf_map_update_elem(&pending, &tid, &e, BPF_ANY);
	return 0;
}

SEC("kprobe/__x64_sys_getcwd")
int on_kprobe(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct event *e = bpf_map_lookup_elem(&pending, &tid);
	if (e)
		e->via_kprobe = 1;
	return 0;
}

SEC("fentry/__x64_sys_getcwd")
int BPF_PROG(on_fentry)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct event *e = bpf_map_lookup_elem(&pending, &tid);
	if (e)
		e->via_fentry = 1;
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_getcwd")
int on_exit(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct event *e = bpf_map_lookup_elem(&pending, &tid);
	if (!e)
		return 0;
	gadget_output_buf(ctx, &events, e, sizeof(*e));
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
