// SPDX-License-Identifier: Apache-2.0
/*
 * trace_tcp: TCP connect, accept and close, from the sock/inet_sock_set_state
 * tracepoint (no kprobes needed).
 *   connect: SYN_SENT → ESTABLISHED (ports are known by then); the process is
 *            the one recorded at CLOSE → SYN_SENT (in connect(2) context)
 *   accept:  SYN_RECV → ESTABLISHED (in softirq: pid/comm are those of the
 *            process that listened on the local port, when seen by this gadget
 *            via CLOSE → LISTEN; else the interrupted task's)
 *   close:   ESTABLISHED → FIN_WAIT1 / CLOSE, CLOSE_WAIT → LAST_ACK / CLOSE
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include <gadget/buffer.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/mntns.h>
#include <gadget/pidns.h>
#include <gadget/types.h>

#define AF_INET 2
#define AF_INET6 10

enum event_type { connect, accept, close };

struct event {
	gadget_timestamp timestamp_raw;
	gadget_mntns_id mntns_id;
	gadget_netns_id netns_id;
	gadget_pid pid;
	gadget_tid tid;
	/* the same process as its pid namespace sees it (a container's view) */
	gadget_pidns_id pidns_id;
	gadget_ns_pid ns_pid;
	gadget_ns_tid ns_tid;
	gadget_uid uid;
	gadget_gid gid;
	gadget_comm comm[TASK_COMM_LEN];
	enum event_type type;
	struct gadget_l4endpoint_t src;
	struct gadget_l4endpoint_t dst;
};

struct owner {
	gadget_mntns_id mntns_id;
	gadget_pid pid;
	gadget_tid tid;
	gadget_pidns_id pidns_id;
	gadget_ns_pid ns_pid;
	gadget_ns_tid ns_tid;
	gadget_uid uid;
	gadget_gid gid;
	gadget_comm comm[TASK_COMM_LEN];
};

struct listen_key {
	__u32 netns;
	__u16 port;
	__u16 family;
};

/* --accept-only / --connect-only */
const volatile bool accept_only = false;
GADGET_PARAM(accept_only);
const volatile bool connect_only = false;
GADGET_PARAM(connect_only);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct listen_key);
	__type(value, struct owner);
} listeners SEC(".maps");

/* socket address → the process that called connect() */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, struct owner);
} connecting SEC(".maps");

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(tcp, events, event);

static __always_inline void current_owner(struct owner *o)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	o->mntns_id = gadget_get_current_mntns_id();
	o->pid = pid_tgid >> 32;
	o->tid = (__u32)pid_tgid;
	gadget_get_current_pidns(&o->pidns_id, &o->ns_pid, &o->ns_tid, 0);
	o->uid = (__u32)uid_gid;
	o->gid = uid_gid >> 32;
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

SEC("tracepoint/sock/inet_sock_set_state")
int ig_tcp_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	int oldstate = ctx->oldstate, newstate = ctx->newstate;
	struct sock *sk = (struct sock *)ctx->skaddr;
	struct listen_key lk = {};
	struct owner o = {}, *found;
	enum event_type type;
	struct event *e;
	__u16 family = ctx->family;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;

	lk.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	lk.port = ctx->sport;
	lk.family = family;

	if (newstate == TCP_LISTEN) {
		current_owner(&o);
		bpf_map_update_elem(&listeners, &lk, &o, BPF_ANY);
		return 0;
	}
	if (oldstate == TCP_LISTEN) {
		bpf_map_delete_elem(&listeners, &lk);
		return 0;
	}

	__u64 skkey = (__u64)sk;

	if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT) {
		current_owner(&o);
		bpf_map_update_elem(&connecting, &skkey, &o, BPF_ANY);
		return 0;
	}
	if (oldstate == TCP_SYN_SENT) {
		found = bpf_map_lookup_elem(&connecting, &skkey);
		if (!found)
			return 0;
		o = *found;
		bpf_map_delete_elem(&connecting, &skkey);
		if (newstate != TCP_ESTABLISHED)
			return 0; /* failed connect */
		type = connect;
	} else if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED)
		type = accept;
	else if ((oldstate == TCP_ESTABLISHED &&
		  (newstate == TCP_FIN_WAIT1 || newstate == TCP_CLOSE)) ||
		 (oldstate == TCP_CLOSE_WAIT &&
		  (newstate == TCP_LAST_ACK || newstate == TCP_CLOSE)))
		type = close;
	else
		return 0;

	if (accept_only && type != accept)
		return 0;
	if (connect_only && type != connect)
		return 0;

	if (type == accept) {
		found = bpf_map_lookup_elem(&listeners, &lk);
		if (found)
			o = *found;
		else
			current_owner(&o);
	} else if (type == close) {
		current_owner(&o);
	}

	if (gadget_should_discard_data(o.mntns_id, o.pid, o.tid, o.comm, o.uid,
				       o.gid))
		return 0;

	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->timestamp_raw = bpf_ktime_get_boot_ns();
	e->mntns_id = o.mntns_id;
	e->netns_id = lk.netns;
	e->pid = o.pid;
	e->tid = o.tid;
	e->pidns_id = o.pidns_id;
	e->ns_pid = o.ns_pid;
	e->ns_tid = o.ns_tid;
	e->uid = o.uid;
	e->gid = o.gid;
	__builtin_memcpy(e->comm, o.comm, sizeof(e->comm));
	e->type = type;
	e->src.port = ctx->sport;
	e->dst.port = ctx->dport;
	e->src.proto_raw = e->dst.proto_raw = IPPROTO_TCP;
	if (family == AF_INET) {
		e->src.version = e->dst.version = 4;
		/* helpers, not memcpy: the verifier refuses loads through a
		 * ctx pointer with an offset added */
		bpf_probe_read_kernel(&e->src.addr_raw.v4, 4, ctx->saddr);
		bpf_probe_read_kernel(&e->dst.addr_raw.v4, 4, ctx->daddr);
	} else {
		e->src.version = e->dst.version = 6;
		bpf_probe_read_kernel(e->src.addr_raw.v6, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(e->dst.addr_raw.v6, 16, ctx->daddr_v6);
	}
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
