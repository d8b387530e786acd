// SPDX-License-Identifier: Apache-2.0
/*
 * smoke: a tiny libbpf loader to check that a gadget object loads, attaches and
 * produces output. A developer tool for bpf/ and gadgets/, not the runtime.
 *
 *   smoke OBJ [--perf] [--set VAR=INT]... [--ms N] [-- TRIGGER_SHELL_COMMAND]
 *
 * Loads OBJ (zeroing ring buffer / perf map value types like the runtime), sets
 * .rodata integers, attaches every program that is not an iterator, runs the
 * trigger, then prints: events per tracer map (ring buffer or perf), the first
 * event as hex, entries of every HASH map, and the text of every iterator.
 * --perf sets gadget_buffer_use_perf and turns ring buffers into perf arrays.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

static long events;
static int dumped;

static void dump(const void *data, size_t size)
{
	if (dumped++ >= 1)
		return;
	printf("first event (%zu bytes):", size);
	for (size_t i = 0; i < size && i < 96; i++)
		printf("%s%02x", i % 16 ? " " : "\n  ", ((unsigned char *)data)[i]);
	printf("\n");
}

static int rb_cb(void *ctx, void *data, size_t size)
{
	events++;
	dump(data, size);
	return 0;
}

static void pb_cb(void *ctx, int cpu, void *data, __u32 size)
{
	events++;
	dump(data, size);
}

static void pb_lost(void *ctx, int cpu, __u64 n)
{
	printf("perf lost %llu on cpu %d\n", (unsigned long long)n, cpu);
}

static int set_rodata(struct bpf_object *obj, const char *name, long long v)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, ".rodata");
	struct btf *btf = bpf_object__btf(obj);
	size_t sz;
	char *data;
	int id;

	if (!m || !btf)
		return -1;
	data = bpf_map__initial_value(m, &sz);
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0 || !data)
		return -1;
	const struct btf_type *t = btf__type_by_id(btf, id);
	const struct btf_var_secinfo *vs = btf_var_secinfos(t);
	for (int i = 0; i < btf_vlen(t); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);
		if (strcmp(btf__name_by_offset(btf, var->name_off), name))
			continue;
		memcpy(data + vs->offset, &v, vs->size < 8 ? vs->size : 8); /* little endian */
		return 0;
	}
	fprintf(stderr, "no .rodata variable %s\n", name);
	return -1;
}

int main(int argc, char **argv)
{
	const char *trigger = NULL;
	int perf = 0, ms = 300;
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	struct ring_buffer *rb = NULL;
	struct perf_buffer *pbs[8];
	int npb = 0, i, err;
	char *sets[32];
	int nsets = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: smoke OBJ [--perf] [--set VAR=INT] [--ms N] [-- CMD]\n");
		return 2;
	}
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--perf"))
			perf = 1;
		else if (!strcmp(argv[i], "--set") && i + 1 < argc)
			sets[nsets++] = argv[++i];
		else if (!strcmp(argv[i], "--ms") && i + 1 < argc)
			ms = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--") && i + 1 < argc) {
			trigger = argv[i + 1];
			break;
		}
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		perror("open");
		return 1;
	}
	bpf_object__for_each_map(map, obj) {
		if (bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF) {
			if (perf) {
				bpf_map__set_type(map, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
				bpf_map__set_max_entries(map, 0);
				bpf_map__set_key_size(map, 4);
				bpf_map__set_value_size(map, 4);
			} else {
				bpf_map__set_key_size(map, 0);
				bpf_map__set_value_size(map, 0);
			}
		} else if (bpf_map__type(map) == BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
			bpf_map__set_key_size(map, 4);
			bpf_map__set_value_size(map, 4);
		}
	}
	if (perf && set_rodata(obj, "gadget_buffer_use_perf", 1))
		return 1;
	for (i = 0; i < nsets; i++) {
		char *eq = strchr(sets[i], '=');
		if (!eq)
			return 2;
		*eq = 0;
		if (set_rodata(obj, sets[i], strtoll(eq + 1, NULL, 0)))
			return 1;
	}
	err = bpf_object__load(obj);
	if (err) {
		printf("LOAD FAILED: %d (%s)\n", err, strerror(-err));
		return 1;
	}
	printf("loaded\n");
	bpf_object__for_each_program(prog, obj) {
		const char *sec = bpf_program__section_name(prog);
		if (!strncmp(sec, "iter", 4))
			continue;
		if (!bpf_program__attach(prog)) {
			printf("ATTACH FAILED: %s (%s): %s\n", bpf_program__name(prog), sec,
			       strerror(errno));
			return 1;
		}
	}
	printf("attached\n");
	bpf_object__for_each_map(map, obj) {
		int t = bpf_map__type(map);
		if (t == BPF_MAP_TYPE_RINGBUF) {
			if (!rb)
				rb = ring_buffer__new(bpf_map__fd(map), rb_cb, NULL, NULL);
			else
				ring_buffer__add(rb, bpf_map__fd(map), rb_cb, NULL);
		} else if (t == BPF_MAP_TYPE_PERF_EVENT_ARRAY && npb < 8) {
			pbs[npb] = perf_buffer__new(bpf_map__fd(map), 64, pb_cb, pb_lost, NULL, NULL);
			if (pbs[npb])
				npb++;
		}
	}
	if (trigger && system(trigger) == -1)
		perror("trigger");
	for (int t = 0; t < ms / 10; t++) {
		if (rb) {
			/* submissions use BPF_RB_NO_WAKEUP: drain after every timeout */
			ring_buffer__poll(rb, 10);
			ring_buffer__consume(rb);
		}
		for (i = 0; i < npb; i++)
			perf_buffer__poll(pbs[i], 0);
		if (!rb)
			usleep(10000);
	}
	if (rb || npb)
		printf("events: %ld\n", events);
	bpf_object__for_each_map(map, obj) {
		int t = bpf_map__type(map);
		const char *name = bpf_map__name(map);
		if ((t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_PERCPU_ARRAY) &&
		    strncmp(name, "gadget_", 7) && strcmp(name, "ig_build_id")) {
			char key[512], next[512];
			int n = 0, fd = bpf_map__fd(map);
			void *k = NULL;
			if (bpf_map__key_size(map) > sizeof(key))
				continue;
			while (!bpf_map_get_next_key(fd, k, next)) {
				memcpy(key, next, sizeof(key));
				k = key;
				n++;
			}
			if (t == BPF_MAP_TYPE_PERCPU_ARRAY) {
				int ncpu = libbpf_num_possible_cpus();
				__u64 vals[256] = {0}, sum = 0;
				__u32 zero = 0;
				if (bpf_map__value_size(map) == 8 && ncpu <= 256 &&
				    !bpf_map_lookup_elem(fd, &zero, vals)) {
					for (int c = 0; c < ncpu; c++)
						sum += vals[c];
					printf("map %s: sum %llu\n", name, (unsigned long long)sum);
				}
			} else
				printf("map %s: %d entries\n", name, n);
		}
	}
	bpf_object__for_each_program(prog, obj) {
		if (strncmp(bpf_program__section_name(prog), "iter", 4))
			continue;
		struct bpf_link *l = bpf_program__attach_iter(prog, NULL);
		if (!l) {
			printf("ITER ATTACH FAILED %s: %s\n", bpf_program__name(prog), strerror(errno));
			continue;
		}
		int fd = bpf_iter_create(bpf_link__fd(l));
		char buf[4096];
		ssize_t n, total = 0;
		printf("iter %s:\n", bpf_program__name(prog));
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			if (total < 1200)
				fwrite(buf, 1, n < 1200 - total ? n : 1200 - total, stdout);
			total += n;
		}
		printf("\n[iter %s: %zd bytes%s]\n", bpf_program__name(prog), total,
		       n < 0 ? ", read error" : "");
		close(fd);
		bpf_link__destroy(l);
	}
	bpf_object__close(obj);
	return 0;
}
