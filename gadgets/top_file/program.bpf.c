// SPDX-License-Identifier: Apache-2.0
/*
 * top_file: reads and writes per process and file, from the syscalls
 * read/write/pread64/pwrite64/readv/writev tracepoints. Enter saves the fd per
 * thread; exit resolves fd → struct file (task->files) and accounts the bytes
 * returned. A map iterator: the table is fetched and cleared every interval.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include <gadget/filesystem.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/mntns.h>
#include <gadget/types.h>

#define S_IFMT 00170000
#define S_IFREG 0100000
#define FILE_NAME_LEN 64

enum file_type { R, S, O }; /* regular, socket, other */

struct file_id {
	gadget_pid pid;
	gadget_tid tid;
	gadget_mntns_id mntns_id;
	__u32 dev;
	__u64 inode;
};

struct file_stat {
	__u64 reads;
	__u64 writes;
	gadget_bytes rbytes;
	gadget_bytes wbytes;
	gadget_comm comm[TASK_COMM_LEN];
	char file[FILE_NAME_LEN];
	enum file_type t;
};

struct fd_arg {
	__s32 fd;
	__u32 write;
};

/* --all-files: not only regular files */
const volatile bool all_files = false;
GADGET_PARAM(all_files);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct file_id);
	__type(value, struct file_stat);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct fd_arg);
} fds SEC(".maps");

static const struct file_stat zero_stat = {};

GADGET_MAPITER(file, stats);

static __always_inline int enter_rw(__s64 fd, __u32 write)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct fd_arg a = { .fd = fd, .write = write };

	if (gadget_should_discard_data_current())
		return 0;
	bpf_map_update_elem(&fds, &tid, &a, BPF_ANY);
	return 0;
}

static __always_inline int exit_rw(long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct file_id key = {};
	struct file_stat *st;
	struct fd_arg *a;
	struct file *f;
	struct inode *inode;
	__u32 mode;
	enum file_type t;

	a = bpf_map_lookup_elem(&fds, &tid);
	if (!a)
		return 0;
	if (ret < 0)
		goto cleanup;
	f = get_struct_file_for_fd(a->fd);
	if (!f)
		goto cleanup;
	inode = BPF_CORE_READ(f, f_inode);
	mode = BPF_CORE_READ(inode, i_mode);
	if ((mode & S_IFMT) == S_IFREG)
		t = R;
	else if ((mode & S_IFMT) == 0140000)
		t = S;
	else
		t = O;
	if (!all_files && t != R)
		goto cleanup;

	key.pid = pid_tgid >> 32;
	key.tid = tid;
	key.mntns_id = gadget_get_current_mntns_id();
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key.inode = BPF_CORE_READ(inode, i_ino);

	st = bpf_map_lookup_elem(&stats, &key);
	if (!st) {
		bpf_map_update_elem(&stats, &key, &zero_stat, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&stats, &key);
		if (!st)
			goto cleanup;
		bpf_get_current_comm(st->comm, sizeof(st->comm));
		bpf_probe_read_kernel_str(st->file, sizeof(st->file),
					  BPF_CORE_READ(f, f_path.dentry, d_name.name));
		st->t = t;
	}
	if (a->write) {
		__sync_fetch_and_add(&st->writes, 1);
		__sync_fetch_and_add(&st->wbytes, ret);
	} else {
		__sync_fetch_and_add(&st->reads, 1);
		__sync_fetch_and_add(&st->rbytes, ret);
	}
cleanup:
	bpf_map_delete_elem(&fds, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_read")
int ig_read_e(struct syscall_trace_enter *ctx) { return enter_rw(ctx->args[0], 0); }
SEC("tracepoint/syscalls/sys_enter_pread64")
int ig_pread_e(struct syscall_trace_enter *ctx) { return enter_rw(ctx->args[0], 0); }
SEC("tracepoint/syscalls/sys_enter_readv")
int ig_readv_e(struct syscall_trace_enter *ctx) { return enter_rw(ctx->args[0], 0); }
SEC("tracepoint/syscalls/sys_enter_write")
int ig_write_e(struct syscall_trace_enter *ctx) { return enter_rw(ctx->args[0], 1); }
SEC("tracepoint/syscalls/sys_enter_pwrite64")
int ig_pwrite_e(struct syscall_trace_enter *ctx) { return enter_rw(ctx->args[0], 1); }
SEC("tracepoint/syscalls/sys_enter_writev")
int ig_writev_e(struct syscall_trace_enter *ctx) { return enter_rw(ctx->args[0], 1); }

SEC("tracepoint/syscalls/sys_exit_read")
int ig_read_x(struct syscall_trace_exit *ctx) { return exit_rw(ctx->ret); }
SEC("tracepoint/syscalls/sys_exit_pread64")
int ig_pread_x(struct syscall_trace_exit *ctx) { return exit_rw(ctx->ret); }
SEC("tracepoint/syscalls/sys_exit_readv")
int ig_readv_x(struct syscall_trace_exit *ctx) { return exit_rw(ctx->ret); }
SEC("tracepoint/syscalls/sys_exit_write")
int ig_write_x(struct syscall_trace_exit *ctx) { return exit_rw(ctx->ret); }
SEC("tracepoint/syscalls/sys_exit_pwrite64")
int ig_pwrite_x(struct syscall_trace_exit *ctx) { return exit_rw(ctx->ret); }
SEC("tracepoint/syscalls/sys_exit_writev")
int ig_writev_x(struct syscall_trace_exit *ctx) { return exit_rw(ctx->ret); }

char LICENSE[] SEC("license") = "GPL";
