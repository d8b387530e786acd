// SPDX-License-Identifier: Apache-2.0
/*
 * One record exercising every decoding shape, with known values written from
 * eBPF code, sent on each getcwd(2) (trigger: /bin/pwd -P; use --comm pwd to
 * ignore other callers). Marker convention: GADGET_TRACER(shapes, events, event).
 * Expected values are listed in test/gadgets/README.md and next to each field.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/types.h>

enum color { RED = 0, GREEN = 1, BLUE = 2 };
enum perm_set { PERM_READ = 1, PERM_WRITE = 2, PERM_EXEC = 4 };

typedef __u32 level1_t;
typedef level1_t level2_t; /* chain: level2_t → level1_t → __u32 */
typedef level2_t gadget_chain_end_t;

struct inner {
	__u16 a;
	__s16 b;
	struct {
		__u8 deep;
	} deeper;
};

union both {
	__u32 as_u32;
	__u8 as_bytes[4];
};

struct event {
	bool flag_true; /* true */
	bool flag_false; /* false */
	__u8 u8_max; /* 255 */
	__s8 s8_min; /* -128 */
	__u16 u16_max; /* 65535 */
	__s16 s16_min; /* -32768 */
	__u32 u32_max; /* 4294967295 */
	__s32 s32_min; /* -2147483648 */
	__u64 u64_max; /* 18446744073709551615 (beyond 2^53: bigint or string) */
	__s64 s64_min; /* -9223372036854775808 */
	__s64 s64_max; /* 9223372036854775807 */
	__s32 s32_neg1; /* -1 */
	float f32; /* 1.5 */
	double f64; /* -2.25 */
	char str[16]; /* "hello" */
	char str_full[8]; /* "ABCDEFGH" with no NUL: all 8 bytes */
	__s32 fds[2]; /* [3, -1] */
	__u16 u16_arr[3]; /* [1, 2, 65535] */
	level2_t chained; /* 7, typedef chain */
	struct inner nested; /* nested.a=1 nested.b=-2 nested.deeper.deep=3 */
	union both un; /* un.as_u32=0x04030201, un.as_bytes=[1,2,3,4] */
	unsigned int bf_a : 3; /* 5 */
	unsigned int bf_b : 5; /* 17 */
	int bf_c : 4; /* -3 (signed bitfield) */
	unsigned int bf_d : 20; /* 0xABCDE */
	__u32 after_bf; /* 0xDEADBEEF */
	enum color color; /* BLUE */
	enum color color_unknown; /* 9: no name */
	enum perm_set perms; /* PERM_READ|PERM_EXEC (5) */
	enum perm_set perms_extra; /* PERM_WRITE plus unknown bit 8 (10) */
	gadget_errno error_raw; /* 2 → error ENOENT */
	gadget_signal sig_raw; /* 9 → sig SIGKILL */
	gadget_syscall syscall_raw; /* 79 → syscall getcwd (x86_64) */
	gadget_timestamp timestamp_raw; /* bpf_ktime_get_boot_ns() → now */
	gadget_uid uid; /* 0 → root */
	gadget_gid gid; /* 0 → root */
	gadget_pid pid; /* caller's pid */
	gadget_comm comm[TASK_COMM_LEN]; /* caller's comm */
	gadget_mntns_id mntns_id; /* 4026531841 */
	gadget_netns_id netns_id; /* 4026531840 */
	gadget_file_flags flags_raw; /* O_WRONLY|O_CREAT|O_CLOEXEC = 0x80041 */
	gadget_file_mode mode_raw; /* 0644 = 420 (S_IFREG|0644 = 0x81a4 in mode_reg_raw) */
	gadget_file_mode mode_reg_raw; /* 0x81a4 */
	gadget_bytes bytes; /* 1048576 */
	gadget_duration duration; /* 1500000000 ns */
	struct gadget_l3endpoint_t l3v4; /* 10.0.0.1 */
	struct gadget_l3endpoint_t l3v6; /* 2001:db8::1 */
	struct gadget_l4endpoint_t l4v4; /* 192.168.1.2:8080 TCP */
	struct gadget_l4endpoint_t l4v6; /* [::1]:53 UDP */
	__u32 __skipped; /* skipped: starts with __ */
	__u64 last; /* 0x0102030405060708 */
};

GADGET_TRACER_MAP(events, 256 * 1024);
GADGET_TRACER(shapes, events, event);

SEC("tracepoint/syscalls/sys_enter_getcwd")
int decode_shapes(void *ctx)
{
	struct event *e;

	if (gadget_should_discard_data_current())
		return 0;
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->flag_true = true;
	e->flag_false = false;
	e->u8_max = 255;
	e->s8_min = -128;
	e->u16_max = 65535;
	e->s16_min = -32768;
	e->u32_max = 0xffffffffU;
	e->s32_min = (__s32)0x80000000U;
	e->u64_max = ~0ULL;
	e->s64_min = (__s64)0x8000000000000000ULL;
	e->s64_max = 0x7fffffffffffffffLL;
	e->s32_neg1 = -1;
	/* IEEE 754 bit patterns: 1.5f and -2.25 */
	*(__u32 *)&e->f32 = 0x3fc00000;
	*(__u64 *)&e->f64 = 0xc002000000000000ULL;
	__builtin_memcpy(e->str, "hello", 6);
	__builtin_memcpy(e->str_full, "ABCDEFGH", 8);
	e->fds[0] = 3;
	e->fds[1] = -1;
	e->u16_arr[0] = 1;
	e->u16_arr[1] = 2;
	e->u16_arr[2] = 65535;
	e->chained = 7;
	e->nested.a = 1;
	e->nested.b = -2;
	e->nested.deeper.deep = 3;
	e->un.as_u32 = 0x04030201;
	e->bf_a = 5;
	e->bf_b = 17;
	e->bf_c = -3;
	e->bf_d = 0xABCDE;
	e->after_bf = 0xDEADBEEF;
	e->color = BLUE;
	e->color_unknown = (enum color)9;
	e->perms = PERM_READ | PERM_EXEC;
	e->perms_extra = (enum perm_set)(PERM_WRITE | 8);
	e->error_raw = 2;
	e->sig_raw = 9;
	e->syscall_raw = 79;
	e->timestamp_raw = bpf_ktime_get_boot_ns();
	e->uid = 0;
	e->gid = 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->mntns_id = 4026531841ULL;
	e->netns_id = 4026531840U;
	e->flags_raw = 0x80041;
	e->mode_raw = 0644;
	e->mode_reg_raw = 0100644;
	e->bytes = 1048576;
	e->duration = 1500000000ULL;
	e->l3v4.version = 4;
	e->l3v4.addr_raw.v4 = 0x0100000a; /* 10.0.0.1, network order */
	e->l3v6.version = 6;
	e->l3v6.addr_raw.v6[0] = 0x20;
	e->l3v6.addr_raw.v6[1] = 0x01;
	e->l3v6.addr_raw.v6[2] = 0x0d;
	e->l3v6.addr_raw.v6[3] = 0xb8;
	e->l3v6.addr_raw.v6[15] = 0x01;
	e->l4v4.version = 4;
	e->l4v4.addr_raw.v4 = 0x0201a8c0; /* 192.168.1.2 */
	e->l4v4.port = 8080;
	e->l4v4.proto_raw = 6;
	e->l4v6.version = 6;
	e->l4v6.addr_raw.v6[15] = 1; /* ::1 */
	e->l4v6.port = 53;
	e->l4v6.proto_raw = 17;
	e->__skipped = 0x12345678;
	e->last = 0x0102030405060708ULL;
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
