// SPDX-License-Identifier: Apache-2.0
/* A networking gadget in IG's style: built on the UAPI headers (<linux/...h>,
 * <stdbool.h>, <asm/errno.h> through the multiarch include directory), not
 * vmlinux.h, with GADGET_TYPE_NETWORKING and the socket enricher's lookup.
 * A socket filter that reports UDP datagrams with their endpoints and owner. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/types.h>
#include <linux/udp.h>
#include <asm/errno.h>
#include <stdbool.h>

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define GADGET_TYPE_NETWORKING
#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>
#include <gadget/sockets-map.h>
#include <gadget/filter.h>

struct event {
	gadget_timestamp timestamp_raw;
	gadget_netns_id netns_id;
	struct gadget_process proc;
	struct gadget_l4endpoint_t src;
	struct gadget_l4endpoint_t dst;
	__u16 len;
	bool ingress;
	char cwd[64];
	char exepath[64];
};

GADGET_TRACER_MAP(events, 256 * 1024);
GADGET_TRACER(udp, events, event);

SEC("socket1")
int udp_filter(struct __sk_buff *skb)
{
	struct gadget_socket_value *owner;
	struct event *e;
	struct iphdr ip;
	struct udphdr udp;

	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0 ||
	    ip.version != 4 || ip.protocol != IPPROTO_UDP)
		return 0;
	if (bpf_skb_load_bytes(skb, ETH_HLEN + ip.ihl * 4, &udp, sizeof(udp)) < 0)
		return 0;
	owner = gadget_socket_lookup(skb);
	if (gadget_should_discard_data_by_skb(owner))
		return 0;
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->timestamp_raw = bpf_ktime_get_boot_ns();
	e->netns_id = skb->cb[0];
	gadget_process_populate_from_socket(owner, &e->proc);
	e->src.addr_raw.v4 = ip.saddr;
	e->src.port = bpf_ntohs(udp.source);
	e->src.proto_raw = IPPROTO_UDP;
	e->src.version = 4;
	e->dst.addr_raw.v4 = ip.daddr;
	e->dst.port = bpf_ntohs(udp.dest);
	e->dst.proto_raw = IPPROTO_UDP;
	e->dst.version = 4;
	e->len = bpf_ntohs(udp.len);
	e->ingress = skb->pkt_type == GADGET_SE_PACKET_HOST;
	/* optional fields of the enricher's value: read where its BTF has them (CO-RE) */
	if (owner && bpf_core_field_exists(owner->cwd))
		bpf_probe_read_kernel_str(e->cwd, sizeof(e->cwd), owner->cwd);
	if (owner && bpf_core_field_exists(owner->exepath))
		bpf_probe_read_kernel_str(e->exepath, sizeof(e->exepath), owner->exepath);
	gadget_submit_buf(skb, &events, e, sizeof(*e));
	return 0;
}

/* -EINVAL from <asm/errno.h>: the UAPI errno names are there too */
const volatile int udp_filter_unused_errno = -EINVAL;

char LICENSE[] SEC("license") = "GPL";
