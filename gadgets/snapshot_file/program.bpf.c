// SPDX-License-Identifier: Apache-2.0
/*
 * snapshot_file: the files processes hold open, one row per (process, fd), from an iter/task_file
 * iterator (threads that share their process's file table are visited once). By default regular
 * files and directories are listed, with the file's last path component; --paths gives the whole
 * path and --type-mask other kinds (sockets, pipes, devices).
 */
#include <vmlinux.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include <gadget/filesystem.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/types.h>

#define NAME_MAX_LEN 256

enum file_type {
	REGULAR = 0,
	SOCKET,
	PIPE,
	BPF_MAP,
	DIRECTORY,
	CHAR_DEV,
	BLOCK_DEV,
	SYMLINK,
	OTHER
};

struct gadget_file {
	gadget_mntns_id mntns_id;
	gadget_comm comm[TASK_COMM_LEN];
	gadget_pid pid;
	gadget_tid tid;
	gadget_uid uid;
	__u32 fd;
	enum file_type type_raw;
	char path[NAME_MAX_LEN];
	__u64 inode;
	gadget_file_flags flags_raw;
};

const volatile bool paths = false;
GADGET_PARAM(paths);
/* bit n set = show files of enum file_type n; regular files and directories by default */
const volatile __u32 file_type_mask = (1U << REGULAR) | (1U << DIRECTORY);
GADGET_PARAM(file_type_mask);

GADGET_SNAPSHOTTER(files, gadget_file, ig_snap_file);

#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define S_IFLNK 0120000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000

/* a BPF map's fd is an anonymous inode (no S_IFMT bits) whose file operations are these */
extern const struct file_operations bpf_map_fops __ksym __weak;

static __always_inline enum file_type file_type_of(struct file *file)
{
	if (&bpf_map_fops && BPF_CORE_READ(file, f_op) == &bpf_map_fops)
		return BPF_MAP;
	switch (BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) {
	case S_IFREG:
		return REGULAR;
	case S_IFDIR:
		return DIRECTORY;
	case S_IFIFO:
		return PIPE;
	case S_IFSOCK:
		return SOCKET;
	case S_IFCHR:
		return CHAR_DEV;
	case S_IFBLK:
		return BLOCK_DEV;
	case S_IFLNK:
		return SYMLINK;
	default:
		return OTHER;
	}
}

SEC("iter/task_file")
int ig_snap_file(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct gadget_file info = {};

	if (!task || !file)
		return 0;
	info.mntns_id = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	info.pid = task->tgid;
	info.tid = task->pid;
	info.uid = BPF_CORE_READ(task, cred, uid.val);
	__builtin_memcpy(info.comm, task->comm, TASK_COMM_LEN);
	if (gadget_should_discard_data(info.mntns_id, info.pid, info.tid, info.comm, info.uid,
				       BPF_CORE_READ(task, cred, gid.val)))
		return 0;
	info.type_raw = file_type_of(file);
	if (!((1U << info.type_raw) & file_type_mask))
		return 0;
	info.fd = ctx->fd;
	info.inode = BPF_CORE_READ(file, f_inode, i_ino);
	info.flags_raw = BPF_CORE_READ(file, f_flags);
	if (paths) {
		bpf_probe_read_kernel_str(info.path, sizeof(info.path), get_path_str(&file->f_path));
	} else {
		struct dentry *d = BPF_CORE_READ(file, f_path.dentry);

		bpf_probe_read_kernel_str(info.path, sizeof(info.path), BPF_CORE_READ(d, d_name.name));
	}
	bpf_seq_write(seq, &info, sizeof(info));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
