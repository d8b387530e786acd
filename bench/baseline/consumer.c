// SPDX-License-Identifier: Apache-2.0
/*
 * consumer: the practical limit ig is compared against. A plain C libbpf
 * ring-buffer consumer that loads the same emitter object as the bench's
 * gadget, sets the same .rodata (target_pid, per_call), polls with the same
 * 10 ms timeout, decodes each record and prints the same JSON line ig prints
 * (same fields, same order, same derived values), with stdio fully buffered.
 * Lost events are read from events_lost_samples once a second and printed as
 * {"lost":N,"lostTotal":T} like ig.
 *
 *   consumer OBJ small|open TARGET_PID PER_CALL
 * Runs until SIGINT/SIGTERM. Built by the bench with gcc against native/vendor.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

static volatile sig_atomic_t stop;
static void on_sig(int s) { (void)s; stop = 1; }

struct ev_small {
	uint64_t value;
	uint32_t pid;
	uint32_t seq;
};

struct ev_open {
	uint64_t timestamp_raw;
	uint64_t mntns_id;
	uint32_t pid, tid, uid, gid;
	char comm[16];
	int32_t fd;
	uint32_t error_raw;
	uint32_t flags_raw;
	uint32_t mode_raw;
	char fname[256];
};

static int64_t boot_to_wall_ns;

static void put_json_str(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	putchar_unlocked('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			putchar_unlocked('\\');
			putchar_unlocked(c);
		} else if (c < 0x20) {
			printf("\\u%04x", c);
		} else {
			putchar_unlocked(c);
		}
	}
	putchar_unlocked('"');
}

static const char *errno_name(uint32_t e)
{
	switch (e) {
	case 0: return "";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EACCES: return "EACCES";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case EMFILE: return "EMFILE";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ELOOP: return "ELOOP";
	default: return "E?";
	}
}

static void flags_str(uint32_t f, char *out)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ 0100, "O_CREAT" }, { 0200, "O_EXCL" }, { 0400, "O_NOCTTY" }, { 01000, "O_TRUNC" },
		{ 02000, "O_APPEND" }, { 04000, "O_NONBLOCK" }, { 010000, "O_DSYNC" }, { 020000, "O_ASYNC" },
		{ 040000, "O_DIRECT" }, { 0100000, "O_LARGEFILE" }, { 0200000, "O_DIRECTORY" },
		{ 0400000, "O_NOFOLLOW" }, { 01000000, "O_NOATIME" }, { 02000000, "O_CLOEXEC" },
		{ 010000000, "O_PATH" }, { 020000000, "O_TMPFILE" },
	};
	const char *acc = (f & 3) == 0 ? "O_RDONLY" : (f & 3) == 1 ? "O_WRONLY" : "O_RDWR";
	char *p = stpcpy(out, acc);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (f & names[i].bit) {
			*p++ = '|';
			p = stpcpy(p, names[i].name);
		}
}

static void mode_str(uint32_t m, char *out)
{
	const char *rwx = "rwxrwxrwx";
	out[0] = '-';
	for (int i = 0; i < 9; i++)
		out[1 + i] = (m & (1u << (8 - i))) ? rwx[i] : '-';
	out[10] = 0;
}

static int on_small(void *ctx, void *data, size_t size)
{
	const struct ev_small *e = data;
	(void)ctx;
	if (size < sizeof(*e))
		return 0;
	printf("{\"value\":%llu,\"pid\":%u,\"seq\":%u}\n", (unsigned long long)e->value, e->pid, e->seq);
	return 0;
}

static int on_open(void *ctx, void *data, size_t size)
{
	const struct ev_open *e = data;
	char ts[64], flags[256], mode[16];
	(void)ctx;
	if (size < sizeof(*e))
		return 0;
	int64_t wall = (int64_t)e->timestamp_raw + boot_to_wall_ns;
	time_t sec = wall / 1000000000;
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t k = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + k, sizeof(ts) - k, ".%09lldZ", (long long)(wall % 1000000000));
	flags_str(e->flags_raw, flags);
	mode_str(e->mode_raw, mode);
	printf("{\"timestamp_raw\":%llu,\"timestamp\":\"%s\",\"mntns_id\":%llu,\"pid\":%u,\"tid\":%u,\"uid\":%u,\"gid\":%u,\"comm\":",
	       (unsigned long long)e->timestamp_raw, ts, (unsigned long long)e->mntns_id, e->pid, e->tid, e->uid, e->gid);
	put_json_str(e->comm, sizeof(e->comm));
	printf(",\"fd\":%d,\"error_raw\":%u,\"error\":\"%s\",\"flags_raw\":%u,\"flags\":\"%s\",\"mode_raw\":%u,\"mode\":\"%s\",\"fname\":",
	       e->fd, e->error_raw, errno_name(e->error_raw), e->flags_raw, flags, e->mode_raw, mode);
	put_json_str(e->fname, sizeof(e->fname));
	putchar_unlocked('\n');
	return 0;
}

static int set_rodata(struct bpf_object *obj, const char *var, uint32_t val)
{
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *map;
	int id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return -1;
	const struct btf_type *sec = btf__type_by_id(btf, id);
	const struct btf_var_secinfo *vs = btf_var_secinfos(sec);
	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		size_t n = strlen(name);
		if (!bpf_map__is_internal(map) || n < 7 || strcmp(name + n - 7, ".rodata"))
			continue;
		size_t sz;
		char *data = bpf_map__initial_value(map, &sz);
		for (int i = 0; i < btf_vlen(sec); i++, vs++) {
			const struct btf_type *v = btf__type_by_id(btf, vs->type);
			if (!strcmp(btf__name_by_offset(btf, v->name_off), var) && vs->offset + 4 <= sz) {
				memcpy(data + vs->offset, &val, 4);
				return 0;
			}
		}
	}
	return -1;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: consumer OBJ small|open TARGET_PID PER_CALL\n");
		return 2;
	}
	int open_kind = !strcmp(argv[2], "open");
	static char obuf[1 << 20];
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	signal(SIGPIPE, SIG_IGN);

	struct timespec rt, bt;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	boot_to_wall_ns = (rt.tv_sec - bt.tv_sec) * 1000000000LL + (rt.tv_nsec - bt.tv_nsec);

	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "consumer: cannot open %s\n", argv[1]);
		return 1;
	}
	if (set_rodata(obj, "target_pid", strtoul(argv[3], NULL, 10)) || set_rodata(obj, "per_call", strtoul(argv[4], NULL, 10))) {
		fprintf(stderr, "consumer: target_pid/per_call not found in .rodata\n");
		return 1;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "consumer: load failed\n");
		return 1;
	}
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__attach(prog)) {
			fprintf(stderr, "consumer: attach %s failed\n", bpf_program__name(prog));
			return 1;
		}
	}
	int rb_fd = bpf_object__find_map_fd_by_name(obj, "events");
	int lost_fd = bpf_object__find_map_fd_by_name(obj, "events_lost_samples");
	int ncpu = libbpf_num_possible_cpus();
	struct ring_buffer *rb = ring_buffer__new(rb_fd, open_kind ? on_open : on_small, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "consumer: ring_buffer__new failed\n");
		return 1;
	}
	fprintf(stderr, "consumer: running\n");
	uint64_t lost_last = 0;
	double next_lost = mono() + 1;
	while (!stop) {
		int n = ring_buffer__poll(rb, 10);
		if (n < 0 && n != -EINTR)
			break;
		double t = mono();
		if (t >= next_lost || stop) {
			next_lost = t + 1;
			uint64_t vals[ncpu], sum = 0;
			uint32_t key = 0;
			if (lost_fd >= 0 && !bpf_map_lookup_elem(lost_fd, &key, vals)) {
				for (int c = 0; c < ncpu; c++)
					sum += vals[c];
				if (sum > lost_last)
					printf("{\"lost\":%llu,\"lostTotal\":%llu}\n", (unsigned long long)(sum - lost_last), (unsigned long long)sum);
				lost_last = sum;
			}
		}
		if (n == 0)
			fflush(stdout); /* idle: hand over what is buffered, like ig does per batch */
		if (ferror(stdout))
			break;
	}
	ring_buffer__consume(rb);
	fflush(stdout);
	ring_buffer__free(rb);
	bpf_object__close(obj);
	return 0;
}
