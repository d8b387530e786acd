// SPDX-License-Identifier: Apache-2.0
/*
 * snapshot_socket: open TCP and UDP sockets (IPv4 and IPv6), from the tcp and
 * udp iterators, as typed records (struct event written with bpf_seq_write).
 * The iterators walk the sockets of the network namespace ig runs in.
 */
/* arm64 kernels have an enumerator CLOSE of their own (the fsl-mc bus's commands): renamed here, so this
 * gadget's TCP state names stay as they are shown and the gadget builds for linux/arm64 too */
#define CLOSE CLOSE___kernel
#include <vmlinux.h>
#undef CLOSE
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include <gadget/macros.h>
#include <gadget/types.h>

#define AF_INET 2
#define AF_INET6 10

enum socket_proto { TCP = 6, UDP = 17 };

enum sock_state {
	ESTABLISHED = 1,
	SYN_SENT,
	SYN_RECV,
	FIN_WAIT1,
	FIN_WAIT2,
	TIME_WAIT,
	CLOSE,
	CLOSE_WAIT,
	LAST_ACK,
	LISTEN,
	CLOSING,
	NEW_SYN_RECV,
};

struct event {
	gadget_netns_id netns_id;
	enum socket_proto proto;
	struct gadget_l4endpoint_t src;
	struct gadget_l4endpoint_t dst;
	enum sock_state state;
	__u32 uid;
	__u64 inode;
};

/* --skip-tcp-listen etc. are not provided; filter in user space (-F) */

GADGET_ITER(sockets, event, ig_snap_tcp, ig_snap_udp);

static __always_inline void fill(struct event *e, struct sock_common *skc,
				 enum socket_proto proto)
{
	__u16 family = BPF_CORE_READ(skc, skc_family);

	e->netns_id = BPF_CORE_READ(skc, skc_net.net, ns.inum);
	e->proto = proto;
	e->state = BPF_CORE_READ(skc, skc_state);
	e->src.proto_raw = e->dst.proto_raw = proto;
	e->src.port = BPF_CORE_READ(skc, skc_num);
	e->dst.port = bpf_ntohs(BPF_CORE_READ(skc, skc_dport));
	if (family == AF_INET) {
		e->src.version = e->dst.version = 4;
		e->src.addr_raw.v4 = BPF_CORE_READ(skc, skc_rcv_saddr);
		e->dst.addr_raw.v4 = BPF_CORE_READ(skc, skc_daddr);
	} else {
		e->src.version = e->dst.version = 6;
		BPF_CORE_READ_INTO(&e->src.addr_raw.v6, skc,
				   skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->dst.addr_raw.v6, skc,
				   skc_v6_daddr.in6_u.u6_addr8);
	}
}

static __always_inline __u64 sock_ino(struct sock *sk)
{
	struct socket *so = BPF_CORE_READ(sk, sk_socket);
	struct socket_alloc *sa;

	if (!so)
		return 0;
	sa = container_of(so, struct socket_alloc, socket);
	return BPF_CORE_READ(sa, vfs_inode.i_ino);
}

SEC("iter/tcp")
int ig_snap_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct event e = {};
	__u8 state;

	if (!skc)
		return 0;
	fill(&e, skc, TCP);
	e.uid = ctx->uid;
	state = BPF_CORE_READ(skc, skc_state);
	/* time-wait and request sockets have no struct socket */
	if (state != TCP_TIME_WAIT && state != TCP_NEW_SYN_RECV)
		e.inode = sock_ino((struct sock *)skc);
	bpf_seq_write(ctx->meta->seq, &e, sizeof(e));
	return 0;
}

SEC("iter/udp")
int ig_snap_udp(struct bpf_iter__udp *ctx)
{
	struct udp_sock *udp = ctx->udp_sk;
	struct event e = {};

	if (!udp)
		return 0;
	fill(&e, (struct sock_common *)udp, UDP);
	e.uid = ctx->uid;
	e.inode = sock_ino((struct sock *)udp);
	bpf_seq_write(ctx->meta->seq, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
