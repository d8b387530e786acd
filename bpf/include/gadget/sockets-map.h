/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gadget/sockets-map.h - the socket enricher's map (minimal).
 *
 * Network gadgets that run outside process context (socket filters, tc) look
 * up which process owns a local port here. ig does not fill this map yet; the
 * lookup helpers compile and return NULL, so gadgets using them load and run
 * without process attribution.
 */
#ifndef __GADGET_SOCKETS_MAP_H
#define __GADGET_SOCKETS_MAP_H

#include <bpf/bpf_helpers.h>
#include <gadget/types.h>

#define SE_TASK_COMM_LEN 16

struct sockets_key {
	__u32 netns;
	__u16 family;
	__u16 proto; /* IPPROTO_TCP / IPPROTO_UDP */
	__u16 port; /* host byte order */
};

struct sockets_value {
	__u64 mntns;
	__u64 pid_tgid;
	__u64 uid_gid;
	char task[SE_TASK_COMM_LEN];
	char ptask[SE_TASK_COMM_LEN];
	__u64 sock;
	__u64 deletion_timestamp;
	__u32 ppid;
	char ipv6only;
};

#define MAX_SOCKETS 16384

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_SOCKETS);
	__type(key, struct sockets_key);
	__type(value, struct sockets_value);
} gadget_sockets SEC(".maps");

static __always_inline struct sockets_value *
gadget_socket_lookup_port(__u32 netns, __u16 family, __u16 proto, __u16 port)
{
	struct sockets_key key = {};

	key.netns = netns;
	key.family = family;
	key.proto = proto;
	key.port = port;
	return bpf_map_lookup_elem(&gadget_sockets, &key);
}

#endif /* __GADGET_SOCKETS_MAP_H */
