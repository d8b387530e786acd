/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gadget/filesystem.h - full paths of open files, from eBPF.
 *
 * A path is assembled backwards (leaf first) into a per-CPU scratch buffer by
 * walking dentry->d_parent and crossing mount points through struct mount,
 * at most GADGET_PATH_MAX_COMPONENTS components (deeper paths lose their top).
 *
 *   char path[GADGET_PATH_MAX];
 *   read_full_path_of_open_file_fd(fd, path, sizeof(path));
 */
#ifndef __GADGET_FILESYSTEM_H
#define __GADGET_FILESYSTEM_H

#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define GADGET_PATH_MAX 512
#ifndef GADGET_PATH_MAX_COMPONENTS
#define GADGET_PATH_MAX_COMPONENTS 48
#endif

/* names are written in [0, __GADGET_PATH_HALF); the terminator sits at HALF */
#define __GADGET_PATH_HALF 4096
#define __GADGET_PATH_NAME_MAX 255

struct __gadget_path_scratch {
	char buf[2 * __GADGET_PATH_HALF];
	/* write position, kept in map memory on purpose: the verifier then sees
	 * an unknown (bounded by masks) value in every iteration and the loop's
	 * states converge instead of being explored once per position */
	__u32 pos;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct __gadget_path_scratch);
} gadget_path_scratch SEC(".maps");

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((void *)(ptr) - __builtin_offsetof(type, member)))
#endif

/* get_path_str(path): pointer to a NUL-terminated absolute path in per-CPU
 * scratch memory (valid until the next call on this CPU), or NULL. */
static __always_inline char *get_path_str(struct path *path)
{
	__u32 zero = 0;
	struct __gadget_path_scratch *s;
	struct dentry *dentry, *parent, *mnt_root;
	struct vfsmount *vfsmnt;
	struct mount *mnt, *mnt_parent;
	struct qstr name;
	__u32 pos, len;

	s = bpf_map_lookup_elem(&gadget_path_scratch, &zero);
	if (!s)
		return (void *)0;

	dentry = BPF_CORE_READ(path, dentry);
	vfsmnt = BPF_CORE_READ(path, mnt);
	mnt = container_of(vfsmnt, struct mount, mnt);
	mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
	s->buf[__GADGET_PATH_HALF] = '\0';
	s->pos = __GADGET_PATH_HALF;

	for (int i = 0; i < GADGET_PATH_MAX_COMPONENTS; i++) {
		mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
		parent = BPF_CORE_READ(dentry, d_parent);
		if (dentry == mnt_root || dentry == parent) {
			if (dentry != mnt_root)
				break; /* detached or escaped: stop here */
			if (mnt == mnt_parent)
				break; /* global root reached */
			/* continue above the mount point */
			dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = mnt_parent;
			mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
			vfsmnt = &mnt->mnt;
			continue;
		}
		name = BPF_CORE_READ(dentry, d_name);
		len = name.len;
		pos = s->pos;
		if (len == 0 || len > __GADGET_PATH_NAME_MAX || len + 1 > pos)
			break;
		pos -= len;
		bpf_probe_read_kernel(&s->buf[pos & (__GADGET_PATH_HALF - 1)],
				      len & __GADGET_PATH_NAME_MAX, name.name);
		pos -= 1;
		s->buf[pos & (__GADGET_PATH_HALF - 1)] = '/';
		s->pos = pos;
		dentry = parent;
	}

	pos = s->pos;
	if (pos >= __GADGET_PATH_HALF) {
		/* root itself, or a file without a path (pipe, memfd...):
		 * its dentry name */
		name = BPF_CORE_READ(dentry, d_name);
		if (bpf_probe_read_kernel_str(s->buf, __GADGET_PATH_NAME_MAX,
					      name.name) < 0)
			s->buf[0] = '\0';
		return s->buf;
	}
	return &s->buf[pos & (__GADGET_PATH_HALF - 1)];
}

/* struct file * of fd `fd_num` in the current task, or NULL */
static __always_inline struct file *get_struct_file_for_fd(int fd_num)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file **fds;
	struct file *f = (void *)0;
	unsigned int max_fds;

	if (fd_num < 0)
		return (void *)0;
	fds = BPF_CORE_READ(task, files, fdt, fd);
	max_fds = BPF_CORE_READ(task, files, fdt, max_fds);
	if ((unsigned int)fd_num >= max_fds)
		return (void *)0;
	bpf_core_read(&f, sizeof(f), &fds[fd_num]);
	return f;
}

/* Copy the full path of `fd` into buf (NUL-terminated). Returns the length
 * including the NUL, or a negative value. */
static __always_inline long read_full_path_of_open_file_fd(int fd_num, char *buf,
							   __u64 buf_len)
{
	struct file *file = get_struct_file_for_fd(fd_num);
	struct path f_path;
	char *p;

	if (!file)
		return -1;
	f_path = BPF_CORE_READ(file, f_path);
	p = get_path_str(&f_path);
	if (!p)
		return -1;
	return bpf_probe_read_kernel_str(buf, buf_len, p);
}

#endif /* __GADGET_FILESYSTEM_H */
