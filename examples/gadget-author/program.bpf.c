// SPDX-License-Identifier: Apache-2.0
/*
 * A gadget author's starting point: trace file deletions (unlinkat, unlink, rmdir).
 * Build and run:   ig image build examples/gadget-author -t trace_unlink
 *                  ig run trace_unlink            (or: --pid N, --comm rm, -o json, --k8s-podname …)
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>      /* GADGET_TRACER_MAP, gadget_reserve_buf, gadget_submit_buf */
#include <gadget/filter.h>      /* --pid --tid --uid --gid --comm, and the container filter */
#include <gadget/macros.h>      /* GADGET_TRACER, GADGET_PARAM */
#include <gadget/mntns.h>
#include <gadget/types.h>       /* gadget_* types the runtime formats */

#define NAME_MAX_LEN 256

/* One record per deletion. Field names become columns and JSON keys; the gadget_* typedefs
 * tell ig how to format them (timestamp_raw → timestamp, error_raw → error, …). */
struct event {
	gadget_timestamp timestamp_raw;
	gadget_mntns_id mntns_id;      /* lets ig name the container and pod */
	gadget_pid pid;
	gadget_uid uid;
	gadget_comm comm[TASK_COMM_LEN];
	char pathname[NAME_MAX_LEN];
};

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(unlink, events, event);

/* A run flag: `ig run trace_unlink --dirs-only` (see gadget.yaml for its key and help). */
const volatile bool dirs_only = false;
GADGET_PARAM(dirs_only);

static __always_inline int report(void *ctx, const char *pathname, bool is_dir)
{
	struct event *e;

	if (gadget_should_discard_data_current())
		return 0;
	if (dirs_only && !is_dir)
		return 0;
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	e->timestamp_raw = bpf_ktime_get_boot_ns();
	e->mntns_id = gadget_get_current_mntns_id();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_user_str(e->pathname, sizeof(e->pathname), pathname);
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

/* Deletions reach the kernel three ways: unlinkat (rm), unlink and rmdir (older code, Node's fs). */
SEC("tracepoint/syscalls/sys_enter_unlinkat")
int ig_unlinkat(struct syscall_trace_enter *ctx)
{
	return report(ctx, (const char *)ctx->args[1], ((int)ctx->args[2]) & 0x200 /* AT_REMOVEDIR */);
}

SEC("tracepoint/syscalls/sys_enter_unlink")
int ig_unlink(struct syscall_trace_enter *ctx)
{
	return report(ctx, (const char *)ctx->args[0], false);
}

SEC("tracepoint/syscalls/sys_enter_rmdir")
int ig_rmdir(struct syscall_trace_enter *ctx)
{
	return report(ctx, (const char *)ctx->args[0], true);
}

char LICENSE[] SEC("license") = "GPL";
