// SPDX-License-Identifier: Apache-2.0
/*
 * trace_oomkill: processes killed by the OOM killer (tracepoint oom/mark_victim,
 * also for memory cgroup OOMs). The tracepoint fires in the context of the task
 * whose allocation triggered the kill: that task is the "f" (from) side.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include <gadget/buffer.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/mntns.h>
#include <gadget/types.h>

struct event {
	gadget_timestamp timestamp_raw;
	gadget_mntns_id mntns_id; /* of the triggering task */
	gadget_pid fpid;
	gadget_tid ftid;
	gadget_uid fuid;
	gadget_gid fgid;
	gadget_comm fcomm[TASK_COMM_LEN];
	gadget_pid tpid; /* victim */
	gadget_uid tuid;
	gadget_comm tcomm[TASK_COMM_LEN];
	__u64 pages; /* victim's total_vm in pages */
	__u64 anon_rss_kb;
	__u64 file_rss_kb;
	__u64 shmem_rss_kb;
	__u64 pgtables_kb;
	__s16 oom_score_adj;
};

GADGET_TRACER_MAP(events, 1024 * 64);
GADGET_TRACER(oomkill, events, event);

SEC("tracepoint/oom/mark_victim")
int ig_oom_victim(struct trace_event_raw_mark_victim *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	struct event *e;
	__u32 loc;

	if (gadget_should_discard_data_current())
		return 0;
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	e->timestamp_raw = bpf_ktime_get_boot_ns();
	e->mntns_id = gadget_get_current_mntns_id();
	e->fpid = pid_tgid >> 32;
	e->ftid = (__u32)pid_tgid;
	e->fuid = (__u32)uid_gid;
	e->fgid = uid_gid >> 32;
	gadget_get_current_comm(e->fcomm);
	e->tpid = ctx->pid;
	e->tuid = 0;
	e->tcomm[0] = '\0';
	if (bpf_core_field_exists(ctx->uid))
		e->tuid = BPF_CORE_READ(ctx, uid);
	if (bpf_core_field_exists(ctx->__data_loc_comm)) {
		/* __data_loc: low 16 bits offset from the record start */
		loc = BPF_CORE_READ(ctx, __data_loc_comm);
		bpf_probe_read_kernel_str(e->tcomm, sizeof(e->tcomm),
					  (void *)ctx + (loc & 0xffff));
	}
	e->pages = BPF_CORE_READ(ctx, total_vm) / 4; /* kB → 4 KiB pages */
	e->anon_rss_kb = BPF_CORE_READ(ctx, anon_rss);
	e->file_rss_kb = BPF_CORE_READ(ctx, file_rss);
	e->shmem_rss_kb = BPF_CORE_READ(ctx, shmem_rss);
	e->pgtables_kb = 0;
	e->oom_score_adj = 0;
	if (bpf_core_field_exists(ctx->pgtables))
		e->pgtables_kb = BPF_CORE_READ(ctx, pgtables);
	if (bpf_core_field_exists(ctx->oom_score_adj))
		e->oom_score_adj = BPF_CORE_READ(ctx, oom_score_adj);
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
