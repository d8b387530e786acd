/* SPDX-License-Identifier: Apache-2.0 */
/* gadget/maps.bpf.h - map helpers. */
#ifndef __GADGET_MAPS_BPF_H
#define __GADGET_MAPS_BPF_H

#include <bpf/bpf_helpers.h>

#ifndef EEXIST
#define EEXIST 17
#endif

/* Look `key` up; when absent insert `init` (without clobbering a concurrent
 * insert) and look it up again. NULL if the map is full. */
static __always_inline void *bpf_map_lookup_or_try_init(void *map,
							const void *key,
							const void *init)
{
	void *val;
	long err;

	val = bpf_map_lookup_elem(map, key);
	if (val)
		return val;
	err = bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	if (err && err != -EEXIST)
		return 0;
	return bpf_map_lookup_elem(map, key);
}

#endif /* __GADGET_MAPS_BPF_H */
