// SPDX-License-Identifier: Apache-2.0
/* The eBPF half of the wasm API tests (test/cli/wasm-*.test.ts): one event per getcwd(2)
 * (trigger: /bin/pwd -P) with fields of every scalar shape a guest reads and writes, the maps
 * the map tests use (IG's test shapes), and a perf event array a guest reads itself. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/mntns.h>
#include <gadget/types.h>

struct event {
	gadget_timestamp timestamp_raw;
	gadget_mntns_id mntns_id;
	gadget_pid pid;
	gadget_uid uid;
	gadget_comm comm[TASK_COMM_LEN];
	__u64 counter;		/* 1, 2, 3… */
	__s8 small;		/* -5 */
	__u16 port;		/* 8080 */
	__s32 neg;		/* -7 */
	__s64 big;		/* -1234567890123 */
	float ratio;		/* 1.5 */
	double precise;		/* -2.25 */
	bool yes;		/* true */
	char text[32];		/* "hello from bpf" */
	__u8 raw[4];		/* 1 2 3 4 */
};

/* IG's map test shapes (pkg/operators/wasm/testdata/map and mapofmap) */
struct map_test_struct {
	__u32 a;
	__u32 b;
	__u8 c;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct map_test_struct);
	__type(value, __u32);
} test_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(key_size, sizeof(struct map_test_struct));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 1024);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(key_size, sizeof(__u32));
		__uint(value_size, sizeof(__u32));
		__uint(max_entries, 1);
	});
} map_of_map SEC(".maps");

/* IG's perf test record: {42, 42, 43, zeros} */
struct perf_record {
	__u32 a;
	__u32 b;
	__u8 c;
	__u8 unused[247];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct perf_record);
} perf_scratch SEC(".maps");

__u64 n = 0;

GADGET_TRACER_MAP(events, 256 * 1024);
GADGET_TRACER(getcwd, events, event);

SEC("tracepoint/syscalls/sys_enter_getcwd")
int wasm_host(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	union { float f; __u32 u; } ratio = { .f = 1.5f };
	union { double d; __u64 u; } precise = { .d = -2.25 };
	const char hello[] = "hello from bpf";
	struct perf_record *pr;
	struct event *e;
	__u32 zero = 0;

	if (gadget_should_discard_data_current())
		return 0;
	pr = bpf_map_lookup_elem(&perf_scratch, &zero);
	if (pr) {
		pr->a = 42;
		pr->b = 42;
		pr->c = 43;
		bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, pr, sizeof(*pr));
	}
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->timestamp_raw = bpf_ktime_get_boot_ns();
	e->mntns_id = gadget_get_current_mntns_id();
	e->pid = id >> 32;
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->counter = __sync_add_and_fetch(&n, 1);
	e->small = -5;
	e->port = 8080;
	e->neg = -7;
	e->big = -1234567890123LL;
	__builtin_memcpy(&e->ratio, &ratio.u, 4);
	__builtin_memcpy(&e->precise, &precise.u, 8);
	e->yes = true;
	__builtin_memcpy(e->text, hello, sizeof(hello));
	e->raw[0] = 1;
	e->raw[1] = 2;
	e->raw[2] = 3;
	e->raw[3] = 4;
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
