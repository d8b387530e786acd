// SPDX-License-Identifier: Apache-2.0
/*
 * tcpdump: captures packets with classifiers on each interface's ingress and egress (the
 * runtime attaches them through its dispatcher to the --iface interfaces or to each selected
 * container's interfaces). Each packet goes out as one variable-size record: a fixed header
 * (when, where, which direction, how long, the owning process where the socket enricher knows
 * it) followed by its first `snaplen` bytes.
 *
 * The pcap filter (--pf) hook is GADGET_PF's: a runtime that injects filters replaces its body;
 * ig applies the filter to the captured bytes in userspace (see README.md).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include <bpf/bpf_helpers.h>

#define GADGET_NO_BUF_RESERVE
#define GADGET_TYPE_NETWORKING
#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>
#include <gadget/sockets-map.h>
#include <gadget/packetfilter.h>

#define MAX_PKT_LEN 1500

#define PACKET_TYPE_EGRESS 0
#define PACKET_TYPE_INGRESS 1

struct packet_event {
	gadget_timestamp timestamp_raw;
	gadget_netns_id netns_id;
	struct gadget_process proc;
	__u32 ifindex;
	/* the packet's whole length on the wire */
	__u32 packet_size;
	/* how many of its bytes follow in payload (at most snaplen) */
	__u32 payload_len;
	__u8 packet_type;
	__u8 payload[MAX_PKT_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct packet_event);
} tmp_packets SEC(".maps");

GADGET_TRACER_MAP(packets, 1024 * 1024 * 4);
GADGET_TRACER(packets, packets, packet_event);

const volatile __u16 snaplen = MAX_PKT_LEN;
GADGET_PARAM(snaplen);

GADGET_PF();

static __always_inline int handle(struct __sk_buff *skb, __u8 packet_type)
{
	if (!gadget_pf_matches((void *)skb, (void *)(long)skb->data,
			       (void *)(long)skb->data_end))
		return TC_ACT_UNSPEC;

	__u32 zero = 0;
	struct packet_event *e = bpf_map_lookup_elem(&tmp_packets, &zero);
	if (!e)
		return TC_ACT_UNSPEC;

	__u32 len = skb->len;
	__u32 cap = snaplen;
	if (cap > MAX_PKT_LEN)
		cap = MAX_PKT_LEN;
	if (len > cap)
		len = cap;
	/* bounds the verifier can see for the copy and the record size */
	if (len == 0 || len > MAX_PKT_LEN)
		return TC_ACT_UNSPEC;
	if (bpf_skb_load_bytes(skb, 0, e->payload, len) < 0)
		return TC_ACT_UNSPEC;

	struct gadget_socket_value *owner =
		gadget_socket_lookup_with_direction(skb, packet_type == PACKET_TYPE_INGRESS);
	__builtin_memset(&e->proc, 0, sizeof(e->proc));
	gadget_process_populate_from_socket(owner, &e->proc);

	e->timestamp_raw = bpf_ktime_get_boot_ns();
	e->netns_id = skb->cb[0]; /* set by the runtime's dispatcher */
	e->ifindex = skb->ifindex;
	e->packet_size = skb->len;
	e->payload_len = len;
	e->packet_type = packet_type;
	gadget_output_buf(skb, &packets, e, offsetof(struct packet_event, payload) + len);
	return TC_ACT_UNSPEC;
}

SEC("classifier/ingress/main")
int ingress_main(struct __sk_buff *skb)
{
	/* the whole packet in the linear data, where the filter reads it */
	bpf_skb_pull_data(skb, 0);
	return handle(skb, PACKET_TYPE_INGRESS);
}

SEC("classifier/egress/main")
int egress_main(struct __sk_buff *skb)
{
	bpf_skb_pull_data(skb, 0);
	return handle(skb, PACKET_TYPE_EGRESS);
}

char _license[] SEC("license") = "GPL";
