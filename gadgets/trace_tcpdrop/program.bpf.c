// SPDX-License-Identifier: Apache-2.0
/*
 * trace_tcpdrop: TCP packets the kernel drops, from the skb/kfree_skb tracepoint (no kprobes)
 * with the kernel's drop reason. Addresses, ports and flags come from the packet's own headers,
 * so drops without a socket (a SYN to a closed port) are shown too; where the packet has a
 * socket, its state and owner are added. The owner is the process that called connect() or
 * listen() on it while the gadget ran (recorded at sock/inet_sock_set_state, in that process's
 * context), else the socket enricher's.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include <gadget/buffer.h>
#include <gadget/core_fixes.bpf.h>
#include <gadget/filter.h>
#include <gadget/kernel_stack_map.h>
#include <gadget/macros.h>
#include <gadget/mntns.h>
#include <gadget/types.h>
#define GADGET_TYPE_TRACING
#include <gadget/sockets-map.h>

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

/* IG's names, so the state prints as IG's trace_tcpdrop prints it */
enum tcp_state {
	no_socket = 0, /* ig's: the packet had no socket */
	tcp_established = 1,
	tcp_syn_sent = 2,
	tcp_syn_recv = 3,
	tcp_fin_wait1 = 4,
	tcp_fin_wait2 = 5,
	tcp_time_wait = 6,
	tcp_close = 7,
	tcp_close_wait = 8,
	tcp_last_ack = 9,
	tcp_listen = 10,
	tcp_closing = 11,
	tcp_new_syn_recv = 12,
};

enum tcp_flags_set : __u8 {
	FIN = 0x01,
	SYN = 0x02,
	RST = 0x04,
	PSH = 0x08,
	ACK = 0x10,
	URG = 0x20,
	ECE = 0x40,
	CWR = 0x80,
};

struct event {
	gadget_timestamp timestamp_raw;
	gadget_netns_id netns_id;
	struct gadget_l4endpoint_t src;
	struct gadget_l4endpoint_t dst;
	/* the socket's owner (empty when the packet has no socket, or its owner is unknown) */
	gadget_mntns_id mntns_id;
	gadget_comm comm[TASK_COMM_LEN];
	gadget_pid pid;
	gadget_tid tid;
	gadget_uid uid;
	gadget_gid gid;
	enum tcp_state state_raw;
	enum tcp_flags_set tcpflags_raw;
	enum skb_drop_reason reason_raw;
	gadget_kernel_stack kernel_stack_raw;
};

struct owner {
	gadget_mntns_id mntns_id;
	gadget_comm comm[TASK_COMM_LEN];
	__u32 pid, tid, uid, gid;
};

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(tcpdrop, events, event);

/* struct sock * → the process that connected or listened on it */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct owner);
} owners SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int ig_tcpdrop_owner(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (ctx->newstate == TCP_SYN_SENT || ctx->newstate == TCP_LISTEN) {
		struct owner o = {};
		__u64 pid_tgid = bpf_get_current_pid_tgid();
		__u64 uid_gid = bpf_get_current_uid_gid();

		o.mntns_id = gadget_get_current_mntns_id();
		o.pid = pid_tgid >> 32;
		o.tid = (__u32)pid_tgid;
		o.uid = (__u32)uid_gid;
		o.gid = uid_gid >> 32;
		bpf_get_current_comm(o.comm, sizeof(o.comm));
		bpf_map_update_elem(&owners, &sk, &o, BPF_ANY);
	} else if (ctx->newstate == TCP_CLOSE) {
		bpf_map_delete_elem(&owners, &sk);
	}
	return 0;
}

static __always_inline bool read_headers(struct sk_buff *skb, struct event *e)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 th = BPF_CORE_READ(skb, transport_header);
	__u16 proto = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	struct tcphdr tcp;

	if (th == (__u16)~0U || nh == (__u16)~0U)
		return false;
	if (proto == ETH_P_IP) {
		struct iphdr ip;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh) || ip.protocol != IPPROTO_TCP)
			return false;
		e->src.version = e->dst.version = 4;
		e->src.addr_raw.v4 = ip.saddr;
		e->dst.addr_raw.v4 = ip.daddr;
	} else if (proto == ETH_P_IPV6) {
		struct ipv6hdr ip6;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh) || ip6.nexthdr != IPPROTO_TCP)
			return false;
		e->src.version = e->dst.version = 6;
		__builtin_memcpy(e->src.addr_raw.v6, &ip6.saddr, 16);
		__builtin_memcpy(e->dst.addr_raw.v6, &ip6.daddr, 16);
	} else {
		return false;
	}
	if (bpf_probe_read_kernel(&tcp, sizeof(tcp), head + th))
		return false;
	e->src.port = bpf_ntohs(tcp.source);
	e->dst.port = bpf_ntohs(tcp.dest);
	e->src.proto_raw = e->dst.proto_raw = IPPROTO_TCP;
	/* byte 13 of the TCP header holds the eight flag bits */
	bpf_probe_read_kernel(&e->tcpflags_raw, 1, (unsigned char *)(head + th) + 13);
	return true;
}

/* kfree_skb's rx_sk (the receiving socket; kernels since 6.12): read where the running kernel has it, so the
 * gadget also builds against and runs on older kernels' BTF (e.g. Debian 12's arm64 6.1) */
struct trace_event_raw_kfree_skb___rx_sk {
	void *rx_sk;
} __attribute__((preserve_access_index));

SEC("tracepoint/skb/kfree_skb")
int ig_tcpdrop(struct trace_event_raw_kfree_skb *ctx)
{
	struct sk_buff *skb = ctx->skbaddr;
	int reason = ctx->reason;
	struct event *e;

	/* SKB_DROP_REASON_NOT_SPECIFIED and below are not drops worth showing (consumed skbs) */
	int not_specified = bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED);
	if (not_specified == 0)
		bpf_core_unreachable();
	if (reason <= not_specified)
		return 0;
	/* the tracepoint stores the protocol in host order */
	if (ctx->protocol != ETH_P_IP && ctx->protocol != ETH_P_IPV6)
		return 0;

	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	if (!read_headers(skb, e))
		goto discard;

	struct sock *sk = BPF_CORE_READ(skb, sk);
	if (!sk && bpf_core_field_exists(struct trace_event_raw_kfree_skb___rx_sk, rx_sk))
		sk = ((struct trace_event_raw_kfree_skb___rx_sk *)ctx)->rx_sk;
	if (sk) {
		__u64 key = (__u64)sk;
		struct owner *o = bpf_map_lookup_elem(&owners, &key);

		e->state_raw = BPF_CORE_READ(sk, __sk_common.skc_state);
		e->netns_id = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
		if (o) {
			e->mntns_id = o->mntns_id;
			e->pid = o->pid;
			e->tid = o->tid;
			e->uid = o->uid;
			e->gid = o->gid;
			__builtin_memcpy(e->comm, o->comm, sizeof(e->comm));
		} else {
			struct gadget_socket_value *v = gadget_socket_lookup(sk, e->netns_id);

			if (v) {
				e->mntns_id = v->mntns;
				e->pid = v->pid_tgid >> 32;
				e->tid = (__u32)v->pid_tgid;
				e->uid = (__u32)v->uid_gid;
				e->gid = v->uid_gid >> 32;
				__builtin_memcpy(e->comm, v->task, sizeof(e->comm));
			}
		}
	} else {
		struct net_device *dev = BPF_CORE_READ(skb, dev);

		if (dev)
			e->netns_id = BPF_CORE_READ(dev, nd_net.net, ns.inum);
	}
	/* with a container selection, drops of unknown owners are shown only for --host runs */
	if (gadget_should_discard_mntns_id(e->mntns_id))
		goto discard;
	if (gadget_should_discard_pid(e->pid) || gadget_should_discard_uid(e->uid))
		goto discard;

	e->timestamp_raw = bpf_ktime_get_boot_ns();
	e->reason_raw = reason;
	e->kernel_stack_raw = gadget_get_kernel_stack(ctx);
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
discard:
	gadget_discard_buf(e);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
