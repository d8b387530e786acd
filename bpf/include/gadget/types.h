/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gadget/types.h - types the ig runtime recognises by their typedef name.
 *
 * The runtime walks BTF typedef chains, so a field is formatted only when it
 * is DECLARED with one of these names (e.g. `gadget_errno error_raw;`).
 * A member called `x_raw` keeps the raw value and gets a formatted sibling `x`.
 * Names and layouts are Inspektor Gadget's, so IG gadget sources compile
 * unchanged and their records decode the same.
 *
 * Works on top of <vmlinux.h> (tracing gadgets) or <linux/types.h> (networking
 * gadgets built on the UAPI headers): nothing here needs kernel-internal types.
 */
#ifndef __GADGET_TYPES_H
#define __GADGET_TYPES_H

/* vmlinux.h defines bool; UAPI-header builds get it from the compiler's stdbool.h */
#if !defined(__VMLINUX_H__)
#include <stdbool.h>
#endif

#ifndef TASK_COMM_LEN
#define TASK_COMM_LEN 16
#endif

/* An IPv4 or IPv6 address: v4 in network byte order, v6 as 16 bytes
 * (v6_raw reads the same 16 bytes as one integer, for cheap compares). */
union gadget_ip_addr_t {
	__u8 v6[16];
	unsigned __int128 v6_raw;
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
/* ig's (IG has none): a process as its own pid namespace sees it, filled by
 * gadget/pidns.h. The runtime shows ns_pid-style columns by default when the
 * run selects containers, and enriches by the pid namespace where processes
 * share a mount namespace but not a pid namespace. */
typedef __u32 gadget_pidns_id;
typedef __u32 gadget_ns_pid;
typedef __u32 gadget_ns_tid;
typedef __u32 gadget_ns_ppid;
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
/* open(2) mode bits and flags → strings */
typedef __u32 gadget_file_mode;
typedef __u32 gadget_file_flags;
/* kernel stack id from gadget_get_kernel_stack() → symbolised stack */
typedef __u32 gadget_kernel_stack;

/*
 * Filled by gadget_get_user_stack*() (gadget/user_stack_map.h); all zero when
 * user stacks are off. User space finds the executable by (major, minor,
 * inode, mtime), tells address-space instances apart by base_addr_hash, and
 * reads the frames from ig_ustack[stack_id]. The pid of the task is given in
 * the first two pid namespaces, for hosts where ig's /proc is not the initial
 * pid namespace's.
 */
struct gadget_user_stack {
	__u32 major;
	__u32 minor;
	__u64 inode;
	__u64 mtime_sec;
	__u32 mtime_nsec;
	__u32 base_addr_hash; /* FNV-1a of (mm, start_code, start_stack) */
	__u32 stack_id; /* bpf_get_stackid() result, as IG stores it */
	__u32 tgid_level0;
	__u32 pid_level0;
	__u32 pidns_level0;
	__u32 pid_level1;
	__u32 pidns_level1;
	__u64 otel_correlation_id; /* 0: ig has no OpenTelemetry profiler */
	__u64 boot_timestamp; /* bpf_ktime_get_boot_ns() at collection */
};

typedef __u32 gadget_pid;
typedef __u32 gadget_ppid;
typedef __u32 gadget_tid;
typedef __u32 gadget_ptid;
/* element types of command names: declare `gadget_comm comm[TASK_COMM_LEN]` */
typedef char gadget_comm;
typedef char gadget_pcomm;
typedef __u64 gadget_bytes;
/* nanoseconds */
typedef __u64 gadget_duration;

/* metrics: a field of one of these types is exported as a Prometheus metric */
typedef __u32 gadget_counter__u32;
typedef __u64 gadget_counter__u64;
typedef __u32 gadget_gauge__u32;
typedef __u64 gadget_gauge__u64;
typedef __u32 gadget_histogram_slot__u32;
typedef __u64 gadget_histogram_slot__u64;

struct gadget_creds {
	gadget_uid uid;
	gadget_gid gid;
};

struct gadget_parent {
	gadget_pcomm comm[TASK_COMM_LEN];
	gadget_ppid pid; /* the parent's thread group id */
	gadget_ptid tid; /* the parent's thread id */
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

#define GADGET_SE_PATH_MAX 4096

/*
 * One socket as the socket enricher records it (value of the gadget_sockets
 * map, gadget/sockets-map.h). preserve_access_index makes every access a CO-RE
 * relocation against the enricher's own BTF, so fields may move between
 * versions. The fields after optional_fields_start may be absent: check with
 * bpf_core_field_exists() and size with bpf_core_field_size().
 */
struct gadget_socket_value {
	__u64 mntns;
	__u64 pid_tgid;
	__u64 uid_gid;
	char task[TASK_COMM_LEN];
	char ptask[TASK_COMM_LEN];
	__u64 sock;
	__u64 deletion_timestamp;
	__u32 ppid;
	__u32 ptid;
	char ipv6only;

	char optional_fields_start[0] __attribute__((aligned(8)));
	char cwd[GADGET_SE_PATH_MAX];
	char exepath[GADGET_SE_PATH_MAX];
} __attribute__((preserve_access_index));

#endif /* __GADGET_TYPES_H */
