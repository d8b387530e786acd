// SPDX-License-Identifier: Apache-2.0
/* A tracer with a CO-RE relocation that this kernel's BTF cannot cover: a field-exists check on
 * a struct no kernel defines (libbpf then also searches the modules' BTF, which a minimal BTF
 * would hide), next to an ordinary relocation (the task's tgid). One event per getcwd(2)
 * (trigger: /bin/pwd -P): the pid read through CO-RE, and whether the absent field exists (0). */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>

struct ig_absent_type {
	int absent_field;
} __attribute__((preserve_access_index));

struct event {
	gadget_pid pid;
	gadget_comm comm[TASK_COMM_LEN];
	__u32 absent;
};

GADGET_TRACER_MAP(events, 256 * 1024);
GADGET_TRACER(getcwd, events, event);

SEC("tracepoint/syscalls/sys_enter_getcwd")
int core_uncovered(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct ig_absent_type *none = 0;
	struct event *e;

	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	e->pid = BPF_CORE_READ(task, tgid);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->absent = bpf_core_field_exists(none->absent_field);
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
