// SPDX-License-Identifier: Apache-2.0
/*
 * snapshot_process: the processes (or threads, with --threads) running now.
 * A task iterator writing text records (see ebpf-conventions.md):
 *   "[event]\n" then "name=value\0" for each field.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <gadget/macros.h>
#include <gadget/mntns_filter.h>
#include <gadget/types.h>

/* --threads: one record per thread instead of per process */
const volatile bool show_threads = false;
GADGET_PARAM(show_threads);

static const char nul = '\0';

SEC("iter/task")
int ig_snap_proc(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct task_struct *parent;
	__u64 mntns_id;
	__u32 ppid;

	if (!task)
		return 0;
	if (!show_threads && task->tgid != task->pid)
		return 0;
	mntns_id = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	if (gadget_should_discard_mntns_id(mntns_id))
		return 0;
	parent = BPF_CORE_READ(task, real_parent);
	ppid = parent ? BPF_CORE_READ(parent, tgid) : 0;

	BPF_SEQ_PRINTF(seq, "[event]\ncomm=%s", task->comm);
	bpf_seq_write(seq, &nul, 1);
	BPF_SEQ_PRINTF(seq, "pid=%d", task->tgid);
	bpf_seq_write(seq, &nul, 1);
	BPF_SEQ_PRINTF(seq, "tid=%d", task->pid);
	bpf_seq_write(seq, &nul, 1);
	BPF_SEQ_PRINTF(seq, "ppid=%d", ppid);
	bpf_seq_write(seq, &nul, 1);
	BPF_SEQ_PRINTF(seq, "uid=%u", BPF_CORE_READ(task, cred, uid.val));
	bpf_seq_write(seq, &nul, 1);
	BPF_SEQ_PRINTF(seq, "gid=%u", BPF_CORE_READ(task, cred, gid.val));
	bpf_seq_write(seq, &nul, 1);
	BPF_SEQ_PRINTF(seq, "mntns_id=%llu", mntns_id);
	bpf_seq_write(seq, &nul, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
