// SPDX-License-Identifier: Apache-2.0
/*
 * ig's socket enricher: keeps IG's gadget_sockets map (which process owns each local TCP/UDP
 * socket, keyed by network namespace, family, protocol and local port) for gadgets that see
 * packets outside process context. Built into the addon (native/Makefile) and loaded by the
 * runtime (src/runtime/socket-enricher/) whenever a gadget has that map.
 *
 * IG's enricher hooks inet_bind, tcp_connect, udp_sendmsg and inet_release with kprobes; a
 * kernel without kprobes has none of them, so this one uses:
 *   - iter/task_file: every socket a process holds (at start, then every sweep), owner = holder;
 *   - tp_btf/net_dev_queue: a packet a process sends (a UDP query, a TCP SYN) passes here in
 *     the sender's context before any packet tap sees it, its port already chosen;
 *   - syscalls/sys_{enter,exit}_bind: a socket bound to receive (a server).
 * Entries are never overwritten by the packet path; a socket not seen for two sweeps is removed
 * by userspace (ig_se_seen keeps the sweep each key was last seen in).
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include <gadget/filesystem.h>

#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define TCP_ESTABLISHED_ 1
#define TCP_SYN_SENT_ 2
#define TCP_TIME_WAIT_ 6
#define TCP_LISTEN_ 10
#define TCP_NEW_SYN_RECV_ 12
#define SE_PATH_MAX 512

/* IG's struct gadget_socket_key */
struct se_key {
	__u32 netns;
	__u16 family;
	__u8 proto;
	__u16 port;
};

/* IG's struct gadget_socket_value with its default optional fields (cwd=512, exepath=512); the
 * runtime writes this layout into the CO-RE target it gives gadgets. */
struct gadget_socket_value {
	__u64 mntns;
	__u64 pid_tgid;
	__u64 uid_gid;
	char task[16];
	char ptask[16];
	__u64 sock;
	__u64 deletion_timestamp;
	__u32 ppid;
	__u32 ptid;
	char ipv6only;
	char optional_fields_start[0] __attribute__((aligned(8)));
	char cwd[SE_PATH_MAX];
	char exepath[SE_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct se_key);
	__type(value, struct gadget_socket_value);
} gadget_sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct se_key);
	__type(value, __u64);
} ig_se_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gadget_socket_value);
} ig_se_tmp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} ig_se_bind SEC(".maps");

/* the current sweep, set by userspace */
volatile __u64 ig_se_generation;

static __always_inline bool key_of(struct sock *sk, struct se_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (k->family != AF_INET && k->family != AF_INET6)
		return false;
	k->proto = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP)
		return false;
	k->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	k->port = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	return k->port != 0;
}

/* Record sk as task's. replace: also when the key has an owner (bind, and listening sockets in
 * the iterator: one connection of a server must not hide the server). */
static __always_inline void insert(struct sock *sk, struct task_struct *task, bool replace)
{
	struct se_key k;
	__u32 zero = 0;
	__u64 gen = ig_se_generation;

	if (!key_of(sk, &k))
		return;
	bpf_map_update_elem(&ig_se_seen, &k, &gen, BPF_ANY);
	if (!replace && bpf_map_lookup_elem(&gadget_sockets, &k))
		return;
	struct gadget_socket_value *v = bpf_map_lookup_elem(&ig_se_tmp, &zero);
	if (!v)
		return;
	__builtin_memset(v, 0, __builtin_offsetof(struct gadget_socket_value, cwd));
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	char *p;

	v->cwd[0] = 0;
	v->exepath[0] = 0;
	if (fs) {
		struct path pwd = BPF_CORE_READ(fs, pwd);
		p = get_path_str(&pwd);
		if (p)
			bpf_probe_read_kernel_str(v->cwd, sizeof(v->cwd), p);
	}
	if (exe) {
		struct path f_path = BPF_CORE_READ(exe, f_path);
		p = get_path_str(&f_path);
		if (p)
			bpf_probe_read_kernel_str(v->exepath, sizeof(v->exepath), p);
	}
	v->mntns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	v->pid_tgid = ((__u64)BPF_CORE_READ(task, tgid) << 32) | (__u32)BPF_CORE_READ(task, pid);
	v->uid_gid = ((__u64)BPF_CORE_READ(task, real_cred, gid.val) << 32) | BPF_CORE_READ(task, real_cred, uid.val);
	BPF_CORE_READ_STR_INTO(&v->task, task, comm);
	if (parent) {
		BPF_CORE_READ_STR_INTO(&v->ptask, parent, comm);
		v->ppid = BPF_CORE_READ(parent, tgid);
		v->ptid = BPF_CORE_READ(parent, pid);
	}
	v->sock = (__u64)sk;
	if (k.family == AF_INET6)
		v->ipv6only = BPF_CORE_READ_BITFIELD_PROBED(sk, __sk_common.skc_ipv6only);
	bpf_map_update_elem(&gadget_sockets, &k, v, BPF_ANY);
}

static __always_inline struct sock *sock_of_file(struct file *file)
{
	if (!file)
		return NULL;
	umode_t mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	struct socket *s = BPF_CORE_READ(file, private_data);
	return s ? BPF_CORE_READ(s, sk) : NULL;
}

SEC("iter/task_file")
int ig_se_iter(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct sock *sk = sock_of_file(ctx->file);

	/* a line now and then, so the kernel does not give up on a long silent walk */
	if (ctx->meta->seq_num % 100000 == 0)
		BPF_SEQ_PRINTF(ctx->meta->seq, ".");
	if (!sk || !task)
		return 0;
	insert(sk, task, BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_LISTEN_);
	return 0;
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(ig_se_xmit, struct sk_buff *skb)
{
	struct sock *sk = BPF_CORE_READ(skb, sk);
	if (!sk)
		return 0;
	__u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);
	/* request and time-wait sockets are not full sockets; kernel sockets have no file */
	if (state == TCP_TIME_WAIT_ || state == TCP_NEW_SYN_RECV_)
		return 0;
	if (!BPF_CORE_READ(sk, sk_socket, file))
		return 0;
	/* A SYN leaves in connect(), in the connecting task: that one owns the port now, whoever had it
	 * before (a socket closed less than two sweeps ago keeps its entry, and a new connection often gets
	 * its port back). Other packets may leave from softirq context, where the current task is anyone's:
	 * they only fill a key nobody has. */
	insert(sk, (struct task_struct *)bpf_get_current_task_btf(), state == TCP_SYN_SENT_);
	return 0;
}

struct sys_enter_bind_args {
	__u64 common;
	int nr;
	long fd;
};

struct sys_exit_args {
	__u64 common;
	int nr;
	long ret;
};

SEC("tracepoint/syscalls/sys_enter_bind")
int ig_se_bind_e(struct sys_enter_bind_args *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 fd = ctx->fd;
	bpf_map_update_elem(&ig_se_bind, &tid, &fd, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_bind")
int ig_se_bind_x(struct sys_exit_args *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *fdp = bpf_map_lookup_elem(&ig_se_bind, &tid);
	if (!fdp)
		return 0;
	__u64 fd = *fdp;
	bpf_map_delete_elem(&ig_se_bind, &tid);
	if (ctx->ret != 0)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
	unsigned int max = BPF_CORE_READ(task, files, fdt, max_fds);
	if (fd >= max)
		return 0;
	struct file *file = NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	struct sock *sk = sock_of_file(file);
	if (sk)
		insert(sk, task, true);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
