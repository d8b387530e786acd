// SPDX-License-Identifier: Apache-2.0
/* IG's classifier convention: SEC("classifier/<ingress|egress>/NAME") programs, attached by the
 * runtime as legacy tc (clsact, direct-action) through its dispatcher, on --iface and on each
 * selected container's interfaces. One event per UDP datagram to or from --port, with the
 * direction and the network namespace the dispatcher put in skb->cb[0]. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define GADGET_TYPE_NETWORKING
#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>

struct event {
	gadget_netns_id netns_id;
	__u32 ifindex;
	__u16 sport;
	__u16 dport;
	bool egress;
};

const volatile __u16 port = 0;
GADGET_PARAM(port);

GADGET_TRACER_MAP(events, 64 * 1024);
GADGET_TRACER(packets, events, event);

static __always_inline int handle(struct __sk_buff *skb, bool egress)
{
	struct iphdr ip;
	struct udphdr udp;
	struct event *e;

	if (skb->protocol != bpf_htons(ETH_P_IP) || bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0 ||
	    ip.protocol != IPPROTO_UDP || bpf_skb_load_bytes(skb, ETH_HLEN + ip.ihl * 4, &udp, sizeof(udp)) < 0)
		return TC_ACT_UNSPEC;
	if (bpf_ntohs(udp.dest) != port && bpf_ntohs(udp.source) != port)
		return TC_ACT_UNSPEC;
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return TC_ACT_UNSPEC;
	e->netns_id = skb->cb[0];
	e->ifindex = skb->ifindex;
	e->sport = bpf_ntohs(udp.source);
	e->dport = bpf_ntohs(udp.dest);
	e->egress = egress;
	gadget_submit_buf(skb, &events, e, sizeof(*e));
	return TC_ACT_UNSPEC;
}

SEC("classifier/ingress/count")
int tc_ingress(struct __sk_buff *skb)
{
	return handle(skb, false);
}

SEC("classifier/egress/count")
int tc_egress(struct __sk_buff *skb)
{
	return handle(skb, true);
}

char LICENSE[] SEC("license") = "GPL";
