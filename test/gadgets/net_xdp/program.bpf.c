// SPDX-License-Identifier: Apache-2.0
/* An XDP program (SEC("xdp"), attached with --iface as a bpf link) reporting each UDP datagram to
 * --port it sees: one event per packet, so a test counts exactly the packets it sent. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define GADGET_TYPE_NETWORKING
#include <gadget/buffer.h>
#include <gadget/macros.h>

struct event {
	__u32 ifindex;
	__u16 dport;
	__u16 len;
};

const volatile __u16 port = 0;
GADGET_PARAM(port);

GADGET_TRACER_MAP(events, 64 * 1024);
GADGET_TRACER(packets, events, event);

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp = (void *)ip + sizeof(*ip);
	struct event *e;

	if ((void *)(udp + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
		return XDP_PASS;
	if (bpf_ntohs(udp->dest) != port)
		return XDP_PASS;
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return XDP_PASS;
	e->ifindex = ctx->ingress_ifindex;
	e->dport = port;
	e->len = bpf_ntohs(udp->len);
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
