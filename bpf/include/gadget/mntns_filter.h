/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gadget/mntns_filter.h - in-kernel container filter.
 *
 * With a container selector the runtime fills gadget_mntns_filter_map with the
 * mount namespace ids of the selected containers (kept current as containers
 * come and go) and sets gadget_filter_by_mntns (frozen .rodata, so the check
 * compiles away when no selector is given).
 *
 * Deny mode (ours, not IG's): with gadget_mntns_filter_denies set, the map lists
 * the namespaces to drop (the host's and those of containers not selected), so a
 * namespace nobody knows yet (a container that just started) passes; the runtime
 * holds its events until it knows whose it is. That way a container started after
 * the gadget is traced from its very first event.
 */
#ifndef __GADGET_MNTNS_FILTER_H
#define __GADGET_MNTNS_FILTER_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
/* IG's include chain reaches BPF_KPROBE & co. through this header: gadgets
 * rely on it, so it stays */
#include <bpf/bpf_tracing.h>
#include <gadget/types.h>

const volatile bool gadget_filter_by_mntns = false;
const volatile bool gadget_mntns_filter_denies = false;


struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, gadget_mntns_id);
	__type(value, __u32);
} gadget_mntns_filter_map SEC(".maps");

/* true when events of this mount namespace must be dropped */
static __always_inline bool gadget_should_discard_mntns_id(gadget_mntns_id mntns_id)
{
	bool listed;

	if (!gadget_filter_by_mntns)
		return false;
	listed = bpf_map_lookup_elem(&gadget_mntns_filter_map, &mntns_id) != (void *)0;
	return gadget_mntns_filter_denies ? listed : !listed;
}

#endif /* __GADGET_MNTNS_FILTER_H */
