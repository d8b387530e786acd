/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gadget/task_btf.h - whether the current task can be read as a BTF pointer
 * (ig's header; Inspektor Gadget has none).
 *
 * Where the kernel has bpf_get_current_task_btf() (5.11+), a walk such as
 * task->nsproxy->mnt_ns->ns.inum is a few plain loads the JIT guards against
 * faults (a NULL or bad pointer reads 0); through bpf_get_current_task() each
 * step is a bpf_probe_read_kernel() helper call. The check is a CO-RE enum
 * relocation: a constant once loaded, so the verifier never walks the branch
 * the kernel cannot run. Tracing programs only (tracepoint, raw_tp, tp_btf,
 * kprobe, fentry, iter, perf_event, lsm).
 */
#ifndef __GADGET_TASK_BTF_H
#define __GADGET_TASK_BTF_H

#include <vmlinux.h>
#include <bpf/bpf_core_read.h>

static __always_inline bool gadget_task_btf_reads(void)
{
	return bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf);
}

#endif /* __GADGET_TASK_BTF_H */
