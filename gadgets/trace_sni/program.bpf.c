// SPDX-License-Identifier: Apache-2.0
/*
 * trace_sni: the server name (SNI) of TLS ClientHello messages, read by a socket filter
 * from every TCP segment of a network namespace (the host's, and each selected container's,
 * through the runtime's dispatcher). The sending process comes from the socket enricher.
 *
 * The ClientHello is walked as RFC 8446 lays it out: record header (5), handshake header (4),
 * version (2), random (32), session id, cipher suites, compression methods, extensions; the
 * server_name extension (type 0) holds a list whose first host_name entry is reported.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/types.h>
#include <stdbool.h>

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define GADGET_NO_BUF_RESERVE
#define GADGET_MAX_EVENT_SIZE 512
#define GADGET_TYPE_NETWORKING
#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>
#include <gadget/sockets-map.h>
#include <gadget/filter.h>

#define SNI_MAX_LEN 128
#define TLS_MAX_EXTENSIONS 32
#define LOOPBACK_IFINDEX 1

struct event {
	gadget_timestamp timestamp_raw;
	gadget_netns_id netns_id;
	struct gadget_process proc;
	struct gadget_l4endpoint_t src;
	struct gadget_l4endpoint_t dst;
	char name[SNI_MAX_LEN];
};

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(sni, events, event);

static __always_inline __u16 load_be16(struct __sk_buff *skb, __u32 off, bool *ok)
{
	__u16 v = 0;

	if (bpf_skb_load_bytes(skb, off, &v, 2) < 0)
		*ok = false;
	return bpf_ntohs(v);
}

static __always_inline __u8 load_u8(struct __sk_buff *skb, __u32 off, bool *ok)
{
	__u8 v = 0;

	if (bpf_skb_load_bytes(skb, off, &v, 1) < 0)
		*ok = false;
	return v;
}

/* Copies the SNI of the ClientHello starting at `off` into `out`; returns its length, or 0. */
static __always_inline int parse_sni(struct __sk_buff *skb, __u32 off, char *out)
{
	bool ok = true;

	if (load_u8(skb, off, &ok) != 0x16 /* handshake record */ ||
	    load_u8(skb, off + 5, &ok) != 0x01 /* ClientHello */ || !ok)
		return 0;
	/* 5 record + 4 handshake + 2 version + 32 random */
	__u32 p = off + 43;
	p += 1 + load_u8(skb, p, &ok); /* session id */
	p += 2 + load_be16(skb, p, &ok); /* cipher suites */
	p += 1 + load_u8(skb, p, &ok); /* compression methods */
	__u32 end = p + 2 + load_be16(skb, p, &ok); /* extensions */
	p += 2;
	if (!ok)
		return 0;

	for (int i = 0; i < TLS_MAX_EXTENSIONS; i++) {
		if (p + 4 > end)
			return 0;
		__u16 type = load_be16(skb, p, &ok);
		__u16 len = load_be16(skb, p + 2, &ok);
		if (!ok)
			return 0;
		if (type == 0 /* server_name */) {
			/* list length (2), name type (1, 0 = host_name), name length (2), name */
			if (load_u8(skb, p + 6, &ok) != 0)
				return 0;
			__u32 n = load_be16(skb, p + 7, &ok);
			if (!ok || n == 0)
				return 0;
			if (n > SNI_MAX_LEN - 1)
				n = SNI_MAX_LEN - 1;
			/* 1 <= n <= 128 in a form the verifier follows (clang folds plain range checks) */
			n -= 1;
			asm volatile("%0 &= 0x7f" : "+r"(n));
			n += 1;
			if (bpf_skb_load_bytes(skb, p + 9, out, n) < 0)
				return 0;
			return n;
		}
		p += 4 + len;
	}
	return 0;
}

SEC("socket1")
int ig_trace_sni(struct __sk_buff *skb)
{
	struct event ev = {};
	__u32 l4off;
	__u8 proto;
	__u16 l3 = 0;

	/* on the loopback device every packet is seen leaving and arriving: keep one */
	if (skb->ifindex == LOOPBACK_IFINDEX && skb->pkt_type == PACKET_OUTGOING)
		return 0;
	if (bpf_skb_load_bytes(skb, offsetof(struct ethhdr, h_proto), &l3, 2) < 0)
		return 0;
	if (l3 == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0 || ip.protocol != IPPROTO_TCP)
			return 0;
		l4off = ETH_HLEN + ip.ihl * 4;
		ev.src.version = ev.dst.version = 4;
		ev.src.addr_raw.v4 = ip.saddr;
		ev.dst.addr_raw.v4 = ip.daddr;
	} else if (l3 == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6)) < 0 || ip6.nexthdr != IPPROTO_TCP)
			return 0;
		l4off = ETH_HLEN + sizeof(ip6);
		ev.src.version = ev.dst.version = 6;
		__builtin_memcpy(ev.src.addr_raw.v6, &ip6.saddr, 16);
		__builtin_memcpy(ev.dst.addr_raw.v6, &ip6.daddr, 16);
	} else {
		return 0;
	}

	struct tcphdr tcp;
	if (bpf_skb_load_bytes(skb, l4off, &tcp, sizeof(tcp)) < 0)
		return 0;
	if (!parse_sni(skb, l4off + tcp.doff * 4, ev.name))
		return 0;

	struct gadget_socket_value *owner = gadget_socket_lookup(skb);
	if (gadget_should_discard_data_by_skb(owner))
		return 0;

	ev.timestamp_raw = bpf_ktime_get_boot_ns();
	ev.netns_id = skb->cb[0]; /* set by the runtime's dispatcher */
	ev.src.port = bpf_ntohs(tcp.source);
	ev.dst.port = bpf_ntohs(tcp.dest);
	ev.src.proto_raw = ev.dst.proto_raw = IPPROTO_TCP;
	gadget_process_populate_from_socket(owner, &ev.proc);
	gadget_output_buf(skb, &events, &ev, sizeof(ev));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
