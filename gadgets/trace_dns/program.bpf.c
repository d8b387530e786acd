// SPDX-License-Identifier: Apache-2.0
/* trace_dns: DNS queries and responses over UDP and TCP to or from a port (53 by default),
 * seen by a socket filter on every interface of the host's network namespace. The eBPF side
 * sends the endpoints, the packet type (outgoing, to this host, ...) and the DNS message's
 * first 512 bytes; the userspace part, as in IG, is a wasm module (program.c) that parses the
 * message (id, names, types, rcodes, answers) and measures the latency from query to answer. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>

#define DNS_MAX 512
#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define DNS_HEADER_LEN 12

/* __sk_buff.pkt_type: how the packet met this host */
enum pkt_type_t : __u8 {
	HOST,
	BROADCAST,
	MULTICAST,
	OTHERHOST,
	OUTGOING,
	LOOPBACK,
	USER,
	KERNEL,
};

struct event {
	gadget_timestamp timestamp_raw;
	struct gadget_l4endpoint_t src;
	struct gadget_l4endpoint_t dst;
	enum pkt_type_t pkt_type_raw;
	/* set by the wasm module on a response this host receives: the time since its query */
	gadget_duration latency_ns_raw;
	/* bytes of the DNS message in the packet, and its first DNS_MAX bytes */
	__u32 data_len;
	__u8 data[DNS_MAX];
};

/* --port: the DNS server port whose traffic is traced */
const volatile __u16 port = 53;
GADGET_PARAM(port);

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(dns, events, event);

static __always_inline int load(struct __sk_buff *skb, __u32 off, void *to, __u32 len)
{
	return bpf_skb_load_bytes(skb, off, to, len);
}

SEC("socket")
int ig_trace_dns(struct __sk_buff *skb)
{
	struct event *e;
	__u16 proto, sport, dport;
	__u8 l4proto, vihl, doff;
	__u32 l3 = ETH_HLEN, l4, dns, len;
	__u8 version;

	if (load(skb, 12, &proto, 2))
		return 0;
	proto = bpf_ntohs(proto);
	if (proto == ETH_P_IP) {
		if (load(skb, l3, &vihl, 1) || load(skb, l3 + 9, &l4proto, 1))
			return 0;
		l4 = l3 + (vihl & 0xf) * 4;
		version = 4;
	} else if (proto == ETH_P_IPV6) {
		if (load(skb, l3 + 6, &l4proto, 1))
			return 0;
		l4 = l3 + 40;
		version = 6;
	} else {
		return 0;
	}
	if (l4proto != IPPROTO_UDP && l4proto != IPPROTO_TCP)
		return 0;
	if (load(skb, l4, &sport, 2) || load(skb, l4 + 2, &dport, 2))
		return 0;
	sport = bpf_ntohs(sport);
	dport = bpf_ntohs(dport);
	if (sport != port && dport != port)
		return 0;
	if (l4proto == IPPROTO_UDP) {
		dns = l4 + 8;
	} else {
		if (load(skb, l4 + 12, &doff, 1))
			return 0;
		dns = l4 + (doff >> 4) * 4 + 2; /* DNS over TCP: a 2-byte length first */
	}
	if (skb->len < dns + DNS_HEADER_LEN)
		return 0;
	len = skb->len - dns;

	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->timestamp_raw = bpf_ktime_get_boot_ns();
	e->pkt_type_raw = skb->pkt_type;
	e->src.version = e->dst.version = version;
	e->src.proto_raw = e->dst.proto_raw = l4proto;
	e->src.port = sport;
	e->dst.port = dport;
	if (version == 4) {
		load(skb, l3 + 12, &e->src.addr_raw.v4, 4);
		load(skb, l3 + 16, &e->dst.addr_raw.v4, 4);
	} else {
		load(skb, l3 + 8, &e->src.addr_raw.v6, 16);
		load(skb, l3 + 24, &e->dst.addr_raw.v6, 16);
	}
	e->data_len = len;
	if (len > DNS_MAX)
		len = DNS_MAX;
	/* len is 12..512; written so the verifier sees 1..512 */
	load(skb, dns, e->data, ((len - 1) & (DNS_MAX - 1)) + 1);
	gadget_submit_buf(skb, &events, e, sizeof(*e));
	/* the packet socket this program is attached to keeps nothing */
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
