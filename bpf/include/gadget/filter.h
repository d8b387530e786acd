/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gadget/filter.h - common event filters, as run flags.
 *
 * pid/tid use user space terms: pid = thread group id, tid = thread id.
 * targ_pid/targ_tid/targ_uid/targ_gid: (u32)-1 means "no filter" (the default).
 * For pid and tid, 0 also means "no filter" (IG's convention).
 * targ_comm: "" means no filter; else the exact command name.
 * Flags: --pid --tid --uid --gid --comm (gadget.yaml params.ebpf.<var>.key).
 *
 * With GADGET_TYPE_NETWORKING defined (gadgets built on <linux/...h>, with no
 * task_struct), the current-task helpers are left out; such gadgets filter on
 * the socket enricher's record with gadget_should_discard_data_by_skb().
 */
#ifndef __GADGET_FILTER_H
#define __GADGET_FILTER_H

#include <bpf/bpf_helpers.h>
#include <gadget/macros.h>
#include <gadget/types.h>
#include <gadget/mntns_filter.h>
#ifndef GADGET_TYPE_NETWORKING
#include <gadget/mntns.h>
#endif

#define GADGET_INVALID_ID ((__u32)-1)

const volatile gadget_pid targ_pid = GADGET_INVALID_ID;
GADGET_PARAM(targ_pid);
const volatile gadget_tid targ_tid = GADGET_INVALID_ID;
GADGET_PARAM(targ_tid);
const volatile gadget_uid targ_uid = GADGET_INVALID_ID;
GADGET_PARAM(targ_uid);
const volatile gadget_gid targ_gid = GADGET_INVALID_ID;
GADGET_PARAM(targ_gid);
const volatile gadget_comm targ_comm[TASK_COMM_LEN] = {};
GADGET_PARAM(targ_comm);

static __always_inline bool __gadget_pid_filter_on(__u32 v)
{
	return v != 0 && v != GADGET_INVALID_ID;
}

static __always_inline bool gadget_should_discard_pid(gadget_pid pid)
{
	return __gadget_pid_filter_on(targ_pid) && targ_pid != pid;
}

static __always_inline bool gadget_should_discard_tid(gadget_tid tid)
{
	return __gadget_pid_filter_on(targ_tid) && targ_tid != tid;
}

static __always_inline bool gadget_should_discard_uid(gadget_uid uid)
{
	return targ_uid != GADGET_INVALID_ID && targ_uid != uid;
}

static __always_inline bool gadget_should_discard_gid(gadget_gid gid)
{
	return targ_gid != GADGET_INVALID_ID && targ_gid != gid;
}

static __always_inline bool gadget_should_discard_comm(const gadget_comm *comm)
{
	if (targ_comm[0] == '\0')
		return false;
	for (int i = 0; i < TASK_COMM_LEN; i++) {
		if (comm[i] != targ_comm[i])
			return true;
		if (comm[i] == '\0')
			break;
	}
	return false;
}

static __always_inline bool
gadget_should_discard_data(gadget_mntns_id mntns_id, gadget_pid pid,
			   gadget_tid tid, const gadget_comm *comm,
			   gadget_uid uid, gadget_gid gid)
{
	return gadget_should_discard_mntns_id(mntns_id) ||
	       gadget_should_discard_pid(pid) ||
	       gadget_should_discard_tid(tid) ||
	       gadget_should_discard_uid(uid) ||
	       gadget_should_discard_gid(gid) ||
	       gadget_should_discard_comm(comm);
}

#ifndef GADGET_TYPE_NETWORKING
static __always_inline bool gadget_should_discard_current_mntns(void)
{
	if (!gadget_filter_by_mntns)
		return false;
	return gadget_should_discard_mntns_id(gadget_get_current_mntns_id());
}

/* Decide from the current task; cheap checks first, each skipped when off. */
static __always_inline bool gadget_should_discard_data_current(void)
{
	if (gadget_should_discard_current_mntns())
		return true;

	if (__gadget_pid_filter_on(targ_pid) || __gadget_pid_filter_on(targ_tid)) {
		__u64 pid_tgid = bpf_get_current_pid_tgid();

		if (gadget_should_discard_pid(pid_tgid >> 32) ||
		    gadget_should_discard_tid((__u32)pid_tgid))
			return true;
	}

	if (targ_uid != GADGET_INVALID_ID || targ_gid != GADGET_INVALID_ID) {
		__u64 uid_gid = bpf_get_current_uid_gid();

		if (gadget_should_discard_uid((__u32)uid_gid) ||
		    gadget_should_discard_gid(uid_gid >> 32))
			return true;
	}

	if (targ_comm[0] != '\0') {
		/* 8-byte aligned: gadget_get_current_comm() stores it as two words */
		char comm[TASK_COMM_LEN] __attribute__((aligned(8)));

		gadget_get_current_comm(comm);
		if (gadget_should_discard_comm(comm))
			return true;
	}
	return false;
}
#endif /* !GADGET_TYPE_NETWORKING */

/*
 * Decide from the socket enricher's record of the packet's socket (NULL when
 * the socket is unknown): an unknown owner is dropped as soon as any filter is
 * set, since it cannot be shown to match.
 */
static __always_inline bool
gadget_should_discard_data_by_skb(struct gadget_socket_value *skb_val)
{
	if (!skb_val)
		return gadget_filter_by_mntns || __gadget_pid_filter_on(targ_pid) ||
		       __gadget_pid_filter_on(targ_tid) ||
		       targ_uid != GADGET_INVALID_ID ||
		       targ_gid != GADGET_INVALID_ID || targ_comm[0] != '\0';
	return gadget_should_discard_data(skb_val->mntns, skb_val->pid_tgid >> 32,
					  (__u32)skb_val->pid_tgid, skb_val->task,
					  (__u32)skb_val->uid_gid,
					  skb_val->uid_gid >> 32);
}

#endif /* __GADGET_FILTER_H */
