// SPDX-License-Identifier: Apache-2.0
/*
 * trace_connect: every connect(2), with the address asked for (IPv4, IPv6 or a unix socket's
 * path), the result, and the caller's context as KubeArmor records it: host pid, tid and ppid,
 * the same as the caller's pid namespace sees them, the pid and mount namespace ids, uid, gid.
 * syscalls/sys_enter_connect keeps the arguments per thread; sys_exit_connect sends the event.
 *
 * The record is a packed struct, as KubeArmor's sys_context_t: members sit at unaligned offsets
 * (mntns_id at byte 12, retval at 52, the endpoint at 89) and the runtime decodes them from the
 * offsets BTF gives, never from alignment rules.
 */
#include <vmlinux.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/mntns.h>
#include <gadget/pidns.h>
#include <gadget/types.h>

#define UNIX_PATH_MAX 108

/* socket families, named as the C constants */
enum family {
	AF_UNSPEC = 0,
	AF_UNIX = 1,
	AF_INET = 2,
	AF_INET6 = 10,
	AF_NETLINK = 16,
	AF_PACKET = 17,
	AF_VSOCK = 40,
};

struct __attribute__((packed)) event {
	gadget_timestamp timestamp_raw;
	gadget_pidns_id pidns_id;
	gadget_mntns_id mntns_id;
	gadget_pid pid;
	gadget_tid tid;
	gadget_ppid ppid;
	gadget_ns_pid ns_pid;
	gadget_ns_tid ns_tid;
	gadget_ns_ppid ns_ppid;
	gadget_uid uid;
	gadget_gid gid;
	__s64 retval;
	gadget_errno error_raw;
	gadget_comm comm[TASK_COMM_LEN];
	__s32 fd;
	enum family family_raw;
	__u8 __pad; /* keeps the endpoint at an odd offset: packed decoding is what this shows */
	struct gadget_l4endpoint_t addr;
	char unix_path[UNIX_PATH_MAX];
};

struct pending {
	__s32 fd;
	__u16 family;
	__u16 port;
	__u8 addr[16];
	char unix_path[UNIX_PATH_MAX];
};

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(connect, events, event);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct pending);
} pendings SEC(".maps");

/* built off the stack, then copied into the ring buffer */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} scratch SEC(".maps");

/* --failed: only connects that failed (EINPROGRESS of a non-blocking socket counts as failed) */
const volatile bool targ_failed = false;
GADGET_PARAM(targ_failed);

SEC("tracepoint/syscalls/sys_enter_connect")
int ig_connect_e(struct syscall_trace_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	const void *uaddr = (const void *)ctx->args[1];
	__u32 len = (__u32)ctx->args[2];
	struct pending p = {};

	if (gadget_should_discard_data_current())
		return 0;
	p.fd = (__s32)ctx->args[0];
	if (uaddr && len >= 2)
		bpf_probe_read_user(&p.family, 2, uaddr);
	if (p.family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin;

		bpf_probe_read_user(&sin, sizeof(sin), uaddr);
		p.port = bpf_ntohs(sin.sin_port);
		__builtin_memcpy(p.addr, &sin.sin_addr.s_addr, 4);
	} else if (p.family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 sin6;

		bpf_probe_read_user(&sin6, sizeof(sin6), uaddr);
		p.port = bpf_ntohs(sin6.sin6_port);
		__builtin_memcpy(p.addr, &sin6.sin6_addr, 16);
	} else if (p.family == AF_UNIX && len > 2) {
		bpf_probe_read_user_str(p.unix_path, sizeof(p.unix_path), (const char *)uaddr + 2);
	}
	bpf_map_update_elem(&pendings, &tid, &p, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int ig_connect_x(struct syscall_trace_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	__u32 tid = (__u32)pid_tgid, zero = 0;
	long ret = ctx->ret;
	struct task_struct *task;
	struct pending *p;
	struct event *e;

	p = bpf_map_lookup_elem(&pendings, &tid);
	if (!p)
		return 0;
	if (targ_failed && ret == 0)
		goto cleanup;
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		goto cleanup;
	__builtin_memset(e, 0, sizeof(*e));
	task = (struct task_struct *)bpf_get_current_task();
	e->timestamp_raw = bpf_ktime_get_boot_ns();
	e->mntns_id = gadget_get_current_mntns_id();
	e->pid = pid_tgid >> 32;
	e->tid = tid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	gadget_get_current_pidns(&e->pidns_id, &e->ns_pid, &e->ns_tid, &e->ns_ppid);
	e->uid = (__u32)uid_gid;
	e->gid = uid_gid >> 32;
	e->retval = ret;
	e->error_raw = ret < 0 ? -ret : 0;
	gadget_get_current_comm(e->comm);
	e->fd = p->fd;
	e->family_raw = p->family;
	if (p->family == AF_INET || p->family == AF_INET6) {
		e->addr.version = p->family == AF_INET ? 4 : 6;
		e->addr.port = p->port;
		__builtin_memcpy(&e->addr.addr_raw, p->addr, 16);
		/* the protocol of the socket is not in connect's arguments: TCP unless told (UDP connects are rare) */
		e->addr.proto_raw = IPPROTO_TCP;
	} else if (p->family == AF_UNIX) {
		__builtin_memcpy(e->unix_path, p->unix_path, sizeof(e->unix_path));
	}
	gadget_output_buf(ctx, &events, e, sizeof(*e));
cleanup:
	bpf_map_delete_elem(&pendings, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
