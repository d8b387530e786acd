// SPDX-License-Identifier: Apache-2.0
/* cgroup programs, attached with --cgroup DIR as bpf links: cgroup/sock_create reports each
 * socket a process of the cgroup creates (pid, comm, family, type, protocol); cgroup_skb/egress
 * each UDP datagram to --port it sends. Both always let the socket and the packet through. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>

enum what { SOCK_CREATE = 1, EGRESS_PACKET = 2 };

struct event {
	enum what what;
	gadget_pid pid;
	gadget_comm comm[TASK_COMM_LEN];
	__u32 family;
	__u32 type;
	__u32 protocol;
	__u16 dport;
};

const volatile __u16 port = 0;
GADGET_PARAM(port);

GADGET_TRACER_MAP(events, 64 * 1024);
GADGET_TRACER(cgroup, events, event);

SEC("cgroup/sock_create")
int sock_create(struct bpf_sock *sk)
{
	struct event *e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 1;
	__builtin_memset(e, 0, sizeof(*e));
	e->what = SOCK_CREATE;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->family = sk->family;
	e->type = sk->type;
	e->protocol = sk->protocol;
	gadget_submit_buf(sk, &events, e, sizeof(*e));
	return 1;
}

SEC("cgroup_skb/egress")
int egress(struct __sk_buff *skb)
{
	struct iphdr ip;
	struct udphdr udp;
	struct event *e;

	/* cgroup_skb programs see the packet from its network header on */
	if (skb->protocol != bpf_htons(0x0800) || bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) < 0 || ip.protocol != 17 ||
	    bpf_skb_load_bytes(skb, ip.ihl * 4, &udp, sizeof(udp)) < 0 || bpf_ntohs(udp.dest) != port)
		return 1;
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 1;
	__builtin_memset(e, 0, sizeof(*e));
	e->what = EGRESS_PACKET;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->dport = port;
	gadget_submit_buf(skb, &events, e, sizeof(*e));
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
