/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gadget/sockets-map.h - the socket enricher's map, with IG's names.
 *
 * The socket enricher keeps, per local socket (network namespace, family,
 * protocol, local port), which process owns it: struct gadget_socket_value in
 * gadget/types.h. Gadgets that see packets outside process context (socket
 * filters, tc classifiers) and tracing gadgets that see a struct sock look the
 * owner up here.
 *
 * Shared by networking gadgets (built on <linux/...h>) and tracing gadgets
 * (<vmlinux.h>): include one of the two first; define GADGET_TYPE_NETWORKING
 * for the skb lookups, GADGET_TYPE_TRACING for the struct sock lookup.
 * Networking gadgets also need <linux/if_ether.h>, <linux/ip.h> and
 * <linux/in.h> (struct ethhdr, struct iphdr, IPPROTO_*), as in IG.
 */
#ifndef __GADGET_SOCKETS_MAP_H
#define __GADGET_SOCKETS_MAP_H

#if !defined(__VMLINUX_H__) && !defined(_LINUX_TYPES_H)
#error "gadget/sockets-map.h: include <vmlinux.h> or <linux/types.h> first"
#endif

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <gadget/types.h>

/* constants of the UAPI/kernel headers, namespaced so this header pulls in
 * neither <linux/...h> nor vmlinux.h */
#define GADGET_SE_PACKET_HOST 0
#define GADGET_SE_ETH_HLEN 14
#define GADGET_SE_ETH_P_IP 0x0800
#define GADGET_SE_ETH_P_IPV6 0x86DD
#define GADGET_SE_AF_INET 2
#define GADGET_SE_AF_INET6 10
#define GADGET_SE_IPV6_HLEN 40
#define GADGET_SE_IPV6_NEXTHDR_OFFSET 6 /* offsetof(struct ipv6hdr, nexthdr) */
#define GADGET_SE_TCPHDR_SOURCE_OFFSET 0
#define GADGET_SE_TCPHDR_DEST_OFFSET 2
#define GADGET_SE_UDPHDR_SOURCE_OFFSET 0
#define GADGET_SE_UDPHDR_DEST_OFFSET 2
/* IPv6 next-header values */
#define GADGET_SE_NEXTHDR_HOP 0
#define GADGET_SE_NEXTHDR_TCP 6
#define GADGET_SE_NEXTHDR_UDP 17
#define GADGET_SE_NEXTHDR_ROUTING 43
#define GADGET_SE_NEXTHDR_FRAGMENT 44
#define GADGET_SE_NEXTHDR_AUTH 51
#define GADGET_SE_NEXTHDR_NONE 59
#define GADGET_SE_NEXTHDR_DEST 60

struct gadget_socket_key {
	__u32 netns;
	__u16 family; /* AF_INET / AF_INET6 */
	__u8 proto; /* IPPROTO_TCP / IPPROTO_UDP */
	__u16 port; /* local port, host byte order */
};

#define GADGET_MAX_SOCKETS 16384

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GADGET_MAX_SOCKETS);
	__type(key, struct gadget_socket_key);
	__type(value, struct gadget_socket_value);
} gadget_sockets SEC(".maps");

/* the owner of key's socket; an IPv4 packet also matches a dual-stack
 * (not IPV6_V6ONLY) IPv6 socket on the same port */
static __always_inline struct gadget_socket_value *
__gadget_socket_find(struct gadget_socket_key *key)
{
	struct gadget_socket_value *v = bpf_map_lookup_elem(&gadget_sockets, key);

	if (v || key->family != GADGET_SE_AF_INET)
		return v;
	key->family = GADGET_SE_AF_INET6;
	v = bpf_map_lookup_elem(&gadget_sockets, key);
	return v && !v->ipv6only ? v : (void *)0;
}

#ifdef GADGET_TYPE_NETWORKING
/*
 * The local socket of the packet in skb. is_ingress says which port is local
 * (destination for ingress, source for egress); tc programs must pass it,
 * since skb->pkt_type does not tell the direction there. skb->cb[0] holds the
 * network namespace inode, written by the runtime's dispatcher before the
 * gadget's program runs. NULL when unknown or not TCP/UDP.
 */
static __always_inline struct gadget_socket_value *
gadget_socket_lookup_with_direction(const struct __sk_buff *skb, __u8 is_ingress)
{
	struct gadget_socket_key key = {};
	__u16 h_proto;
	__u8 b;
	int l4;

	key.netns = skb->cb[0];
	if (bpf_skb_load_bytes(skb, __builtin_offsetof(struct ethhdr, h_proto),
			       &h_proto, sizeof(h_proto)) < 0)
		return (void *)0;

	if (h_proto == bpf_htons(GADGET_SE_ETH_P_IP)) {
		key.family = GADGET_SE_AF_INET;
		if (bpf_skb_load_bytes(skb, GADGET_SE_ETH_HLEN +
					__builtin_offsetof(struct iphdr, protocol),
				       &key.proto, 1) < 0)
			return (void *)0;
		/* IHL: header length in 32-bit words, low nibble of byte 0 */
		if (bpf_skb_load_bytes(skb, GADGET_SE_ETH_HLEN, &b, 1) < 0)
			return (void *)0;
		l4 = GADGET_SE_ETH_HLEN + (b & 0x0f) * 4;
	} else if (h_proto == bpf_htons(GADGET_SE_ETH_P_IPV6)) {
		key.family = GADGET_SE_AF_INET6;
		if (bpf_skb_load_bytes(skb, GADGET_SE_ETH_HLEN +
					GADGET_SE_IPV6_NEXTHDR_OFFSET,
				       &key.proto, 1) < 0)
			return (void *)0;
		l4 = GADGET_SE_ETH_HLEN + GADGET_SE_IPV6_HLEN;
		/* skip up to 6 extension headers, as the kernel's ipv6_skip_exthdr() */
#pragma unroll
		for (int i = 0; i < 6; i++) {
			__u8 next, len;

			if (key.proto == GADGET_SE_NEXTHDR_TCP ||
			    key.proto == GADGET_SE_NEXTHDR_UDP)
				break;
			if (bpf_skb_load_bytes(skb, l4, &next, 1) < 0)
				return (void *)0;
			switch (key.proto) {
			case GADGET_SE_NEXTHDR_FRAGMENT:
				l4 += 8;
				break;
			case GADGET_SE_NEXTHDR_AUTH:
				if (bpf_skb_load_bytes(skb, l4 + 1, &len, 1) < 0)
					return (void *)0;
				l4 += (len + 2) * 4;
				break;
			case GADGET_SE_NEXTHDR_HOP:
			case GADGET_SE_NEXTHDR_ROUTING:
			case GADGET_SE_NEXTHDR_DEST:
				if (bpf_skb_load_bytes(skb, l4 + 1, &len, 1) < 0)
					return (void *)0;
				l4 += (len + 1) * 8;
				break;
			default: /* NEXTHDR_NONE or unknown */
				return (void *)0;
			}
			key.proto = next;
		}
	} else {
		return (void *)0;
	}

	if (key.proto == GADGET_SE_NEXTHDR_TCP)
		l4 += is_ingress ? GADGET_SE_TCPHDR_DEST_OFFSET : GADGET_SE_TCPHDR_SOURCE_OFFSET;
	else if (key.proto == GADGET_SE_NEXTHDR_UDP)
		l4 += is_ingress ? GADGET_SE_UDPHDR_DEST_OFFSET : GADGET_SE_UDPHDR_SOURCE_OFFSET;
	else
		return (void *)0;
	if (bpf_skb_load_bytes(skb, l4, &key.port, sizeof(key.port)) < 0)
		return (void *)0;
	key.port = bpf_ntohs(key.port);
	return __gadget_socket_find(&key);
}

/*
 * Same, with the direction taken from skb->pkt_type (PACKET_HOST = ingress).
 * For socket filters; not for tc, where a packet routed through the host can
 * carry PACKET_HOST in both directions.
 */
static __always_inline struct gadget_socket_value *
gadget_socket_lookup(const struct __sk_buff *skb)
{
	return gadget_socket_lookup_with_direction(skb,
						   skb->pkt_type == GADGET_SE_PACKET_HOST);
}
#endif /* GADGET_TYPE_NETWORKING */

#ifdef GADGET_TYPE_TRACING
/* The owner of a struct sock, in network namespace netns (an inode number). */
static __always_inline struct gadget_socket_value *
gadget_socket_lookup(const struct sock *sk, __u32 netns)
{
	struct gadget_socket_key key = {};
	struct inet_sock *inet = (struct inet_sock *)sk;

	key.netns = netns;
	key.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	key.proto = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	if (key.proto != IPPROTO_TCP && key.proto != IPPROTO_UDP)
		return (void *)0;
	/* inet_sport: the local port, network byte order */
	key.port = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
	return bpf_map_lookup_elem(&gadget_sockets, &key);
}
#endif /* GADGET_TYPE_TRACING */

/* Fill p from a socket's owner (nothing when skb_val is NULL). */
static __always_inline void
gadget_process_populate_from_socket(const struct gadget_socket_value *skb_val,
				    struct gadget_process *p)
{
	if (!skb_val)
		return;
	__builtin_memcpy(p->comm, skb_val->task, sizeof(p->comm));
	p->pid = skb_val->pid_tgid >> 32;
	p->tid = (__u32)skb_val->pid_tgid;
	p->mntns_id = skb_val->mntns;
	p->creds.uid = (__u32)skb_val->uid_gid;
	p->creds.gid = skb_val->uid_gid >> 32;
	__builtin_memcpy(p->parent.comm, skb_val->ptask, sizeof(p->parent.comm));
	p->parent.pid = skb_val->ppid;
	/* ptid is newer than the other fields: an older enricher lacks it */
	p->parent.tid = bpf_core_field_exists(skb_val->ptid) ? skb_val->ptid : 0;
}

#endif /* __GADGET_SOCKETS_MAP_H */
