/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gadget/types.h - types the ig runtime recognises by their typedef name.
 *
 * The runtime walks BTF typedef chains, so a field is formatted only when it
 * is DECLARED with one of these names (e.g. `gadget_errno error_raw;`).
 * A member called `x_raw` keeps the raw value and gets a formatted sibling `x`.
 * Layouts match Inspektor Gadget's, so IG gadget sources compile unchanged.
 */
#ifndef __GADGET_TYPES_H
#define __GADGET_TYPES_H

#ifndef TASK_COMM_LEN
#define TASK_COMM_LEN 16
#endif

/* An IPv4 or IPv6 address: v4 in network byte order, v6 as 16 bytes. */
union gadget_ip_addr_t {
	__u8 v6[16];
	__u32 v4;
};

/* An L3 endpoint → "10.0.0.1" / "::1". */
struct gadget_l3endpoint_t {
	union gadget_ip_addr_t addr_raw;
	__u8 version; /* 4 or 6 */
};

/* An L4 endpoint → "10.0.0.1:80" / "[::1]:80". */
struct gadget_l4endpoint_t {
	union gadget_ip_addr_t addr_raw;
	__u16 port; /* host byte order */
	__u16 proto_raw; /* IP protocol number (IPPROTO_TCP = 6, UDP = 17) */
	__u8 version; /* 4 or 6 */
};

/* mount namespace inode: enriched with the owning container */
typedef __u64 gadget_mntns_id;
/* network namespace inode */
typedef __u32 gadget_netns_id;
/* nanoseconds since boot (bpf_ktime_get_boot_ns()) → wall-clock string */
typedef __u64 gadget_timestamp;
/* signal number → "SIGKILL" */
typedef __u32 gadget_signal;
/* positive errno → "ENOENT" */
typedef __u32 gadget_errno;
/* uid/gid → user / group name where resolvable */
typedef __u32 gadget_uid;
typedef __u32 gadget_gid;
/* syscall number → name */
typedef __u64 gadget_syscall;
/* kernel stack id from gadget_get_kernel_stack() → symbolised stack */
typedef __u32 gadget_kernel_stack;

typedef __u32 gadget_pid;
typedef __u32 gadget_ppid;
typedef __u32 gadget_tid;
/* element types of command names: declare `gadget_comm comm[TASK_COMM_LEN]` */
typedef char gadget_comm;
typedef char gadget_pcomm;
typedef __u64 gadget_bytes;
/* nanoseconds */
typedef __u64 gadget_duration;
/* open(2) mode bits → "0644"-style / S_IRUSR|..., open(2) flags → O_RDONLY|O_CLOEXEC */
typedef __u32 gadget_file_mode;
typedef __u32 gadget_file_flags;

/* metrics: a field of one of these types is exported as a Prometheus metric */
typedef __u32 gadget_counter__u32;
typedef __u64 gadget_counter__u64;
typedef __u32 gadget_gauge__u32;
typedef __u64 gadget_gauge__u64;
typedef __u32 gadget_histogram_slot__u32;
typedef __u64 gadget_histogram_slot__u64;

/* filled by gadget_get_user_stack() (gadget/user_stack_map.h) */
struct gadget_user_stack {
	__u64 exe_inode; /* 0: no user stack */
	__u64 mtime_sec;
	__u32 mtime_nsec;
	__u32 stack_id; /* from bpf_get_stackid() */
	__u32 pid_level0;
	__u32 pidns_level0;
	__u32 pid_level1;
	__u32 pidns_level1;
};

struct gadget_creds {
	gadget_uid uid;
	gadget_gid gid;
};

struct gadget_parent {
	gadget_pcomm comm[TASK_COMM_LEN];
	gadget_ppid pid;
};

/* filled by gadget_process_populate() (gadget/common.h) */
struct gadget_process {
	gadget_comm comm[TASK_COMM_LEN];
	gadget_pid pid;
	gadget_tid tid;
	gadget_mntns_id mntns_id;

	struct gadget_creds creds;
	struct gadget_parent parent;
};

#endif /* __GADGET_TYPES_H */
