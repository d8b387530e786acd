/* SPDX-License-Identifier: Apache-2.0 */
/*
 * <gadget/wasm.h>: Inspektor Gadget's wasm gadget API (version 1) for gadget modules written in
 * C, the counterpart of IG's Go (wasmapi/go) and Rust (wasmapi/rust) guest libraries: the same
 * functions under C names, over the same `ig` imports. spec/wasm-api.md documents every one.
 *
 * Build (what `ig image build` does for build.yaml `wasm: program.c`):
 *   clang-19 --target=wasm32-wasi -O2 -mexec-model=reactor -fuse-ld=lld -I wasm/include -o program.wasm program.c
 *
 * A module exports its entry points with GADGET_EXPORT, each returning 0 on success:
 *   GADGET_EXPORT(gadgetInit) int gadgetInit(void) { ... }
 * (gadgetPreStart, gadgetStart, gadgetStop, gadgetPostStop likewise). This header defines the two
 * exports every module needs, gadgetAPIVersion and dataSourceCallback; include it in one .c file
 * of the module (define GADGET_WASM_NO_EXPORTS before including it in the others).
 *
 * Conventions, as in IG's libraries: handles are uint32_t and 0 means none (an error); functions
 * returning int give 0 on success and -1 on error (perf reads: 2 when nothing is left).
 */
#ifndef GADGET_WASM_H
#define GADGET_WASM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define GADGET_API_VERSION 1
#define GADGET_EXPORT(name) __attribute__((export_name(#name)))
#define GADGET__IMPORT(name) __attribute__((import_module("ig"), import_name(#name)))

typedef uint32_t gadget_datasource;
typedef uint32_t gadget_field;
typedef uint32_t gadget_data;
typedef uint32_t gadget_data_array;
typedef uint32_t gadget_packet;
typedef uint32_t gadget_map;
typedef uint32_t gadget_perf_reader;

/* field kinds (IG's api.Kind) */
enum gadget_field_kind {
	GADGET_KIND_INVALID = 0, GADGET_KIND_BOOL = 1,
	GADGET_KIND_INT8 = 2, GADGET_KIND_INT16 = 3, GADGET_KIND_INT32 = 4, GADGET_KIND_INT64 = 5,
	GADGET_KIND_UINT8 = 6, GADGET_KIND_UINT16 = 7, GADGET_KIND_UINT32 = 8, GADGET_KIND_UINT64 = 9,
	GADGET_KIND_FLOAT32 = 10, GADGET_KIND_FLOAT64 = 11,
	GADGET_KIND_STRING = 12, GADGET_KIND_CSTRING = 13, GADGET_KIND_BYTES = 14,
};

enum gadget_datasource_type { GADGET_DATASOURCE_UNDEFINED = 0, GADGET_DATASOURCE_SINGLE = 1, GADGET_DATASOURCE_ARRAY = 2 };

enum gadget_log_level { GADGET_LOG_ERROR = 0, GADGET_LOG_WARN, GADGET_LOG_INFO, GADGET_LOG_DEBUG, GADGET_LOG_TRACE };

/* BPF map types (cilium/ebpf's numbering, as IG's libraries) */
enum gadget_map_type {
	GADGET_MAP_UNSPEC = 0, GADGET_MAP_HASH, GADGET_MAP_ARRAY, GADGET_MAP_PROG_ARRAY, GADGET_MAP_PERF_EVENT_ARRAY,
	GADGET_MAP_PERCPU_HASH, GADGET_MAP_PERCPU_ARRAY, GADGET_MAP_STACK_TRACE, GADGET_MAP_CGROUP_ARRAY,
	GADGET_MAP_LRU_HASH, GADGET_MAP_LRU_PERCPU_HASH, GADGET_MAP_LPM_TRIE, GADGET_MAP_ARRAY_OF_MAPS,
	GADGET_MAP_HASH_OF_MAPS, GADGET_MAP_DEVMAP, GADGET_MAP_SOCKMAP, GADGET_MAP_CPUMAP, GADGET_MAP_XSKMAP,
	GADGET_MAP_SOCKHASH, GADGET_MAP_CGROUP_STORAGE, GADGET_MAP_REUSEPORT_SOCKARRAY, GADGET_MAP_PERCPU_CGROUP_STORAGE,
	GADGET_MAP_QUEUE, GADGET_MAP_STACK, GADGET_MAP_SK_STORAGE, GADGET_MAP_DEVMAP_HASH, GADGET_MAP_STRUCT_OPS,
	GADGET_MAP_RINGBUF, GADGET_MAP_INODE_STORAGE, GADGET_MAP_TASK_STORAGE, GADGET_MAP_BLOOM_FILTER,
	GADGET_MAP_USER_RINGBUF, GADGET_MAP_CGRP_STORAGE, GADGET_MAP_ARENA,
};

enum gadget_map_update_flags { GADGET_UPDATE_ANY = 0, GADGET_UPDATE_NOEXIST = 1, GADGET_UPDATE_EXIST = 2, GADGET_UPDATE_LOCK = 4 };

/* perfReaderRead's "deadline exceeded": nothing (more) to read */
#define GADGET_PERF_DEADLINE 2

/* the "containers" datasource of IG (not provided by ig) */
#define GADGET_DATASOURCE_CONTAINERS "containers"

/* ---- the `ig` module: IG's imports, with IG's names and types ---- */
GADGET__IMPORT(gadgetLog) void gadget__log(uint32_t level, uint64_t msg);
GADGET__IMPORT(gadgetShouldLog) uint32_t gadget__should_log(uint32_t level);
GADGET__IMPORT(newDataSource) uint32_t gadget__new_datasource(uint64_t name, uint32_t type);
GADGET__IMPORT(getDataSource) uint32_t gadget__get_datasource(uint64_t name);
GADGET__IMPORT(dataSourceSubscribe) uint32_t gadget__subscribe(uint32_t ds, uint32_t type, uint32_t prio, uint64_t cb);
GADGET__IMPORT(dataSourceGetField) uint32_t gadget__get_field(uint32_t ds, uint64_t name);
GADGET__IMPORT(dataSourceAddField) uint32_t gadget__add_field(uint32_t ds, uint64_t name, uint32_t kind);
GADGET__IMPORT(dataSourceNewPacketSingle) uint32_t gadget__new_packet_single(uint32_t ds);
GADGET__IMPORT(dataSourceNewPacketArray) uint32_t gadget__new_packet_array(uint32_t ds);
GADGET__IMPORT(dataSourceEmitAndRelease) uint32_t gadget__emit_and_release(uint32_t ds, uint32_t packet);
GADGET__IMPORT(dataSourceRelease) uint32_t gadget__release(uint32_t ds, uint32_t packet);
GADGET__IMPORT(dataSourceUnreference) uint32_t gadget__unreference(uint32_t ds);
GADGET__IMPORT(dataSourceIsReferenced) uint32_t gadget__is_referenced(uint32_t ds);
GADGET__IMPORT(dataArrayNew) uint32_t gadget__array_new(uint32_t a);
GADGET__IMPORT(dataArrayAppend) uint32_t gadget__array_append(uint32_t a, uint32_t data);
GADGET__IMPORT(dataArrayRelease) uint32_t gadget__array_release(uint32_t a, uint32_t data);
GADGET__IMPORT(dataArrayLen) uint32_t gadget__array_len(uint32_t a);
GADGET__IMPORT(dataArrayGet) uint32_t gadget__array_get(uint32_t a, uint32_t index);
GADGET__IMPORT(fieldGetScalar) uint64_t gadget__field_get_scalar(uint32_t field, uint32_t data, uint32_t kind, uint32_t err_ptr);
GADGET__IMPORT(fieldGetBuffer) int32_t gadget__field_get_buffer(uint32_t field, uint32_t data, uint32_t kind, uint64_t dst);
GADGET__IMPORT(fieldSet) uint32_t gadget__field_set(uint32_t field, uint32_t data, uint32_t kind, uint64_t value);
GADGET__IMPORT(fieldAddTag) uint32_t gadget__field_add_tag(uint32_t field, uint64_t tag);
GADGET__IMPORT(getParamValue) uint32_t gadget__get_param_value(uint64_t key, uint64_t dst);
GADGET__IMPORT(setConfig) uint32_t gadget__set_config(uint64_t key, uint64_t value, uint32_t kind);
GADGET__IMPORT(newMap) uint32_t gadget__new_map(uint64_t name, uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries);
GADGET__IMPORT(getMap) uint32_t gadget__get_map(uint64_t name);
GADGET__IMPORT(mapLookup) uint32_t gadget__map_lookup(uint32_t map, uint64_t key, uint64_t value);
GADGET__IMPORT(mapUpdate) uint32_t gadget__map_update(uint32_t map, uint64_t key, uint64_t value, uint64_t flags);
GADGET__IMPORT(mapDelete) uint32_t gadget__map_delete(uint32_t map, uint64_t key);
GADGET__IMPORT(mapRelease) uint32_t gadget__map_release(uint32_t map);
GADGET__IMPORT(releaseHandle) uint32_t gadget__release_handle(uint32_t handle);
GADGET__IMPORT(getSyscallName) uint32_t gadget__get_syscall_name(uint32_t id, uint64_t dst);
GADGET__IMPORT(getSyscallID) int32_t gadget__get_syscall_id(uint64_t name);
GADGET__IMPORT(getSyscallDeclaration) uint32_t gadget__get_syscall_declaration(uint64_t name, uint64_t dst);
GADGET__IMPORT(newPerfReader) uint32_t gadget__new_perf_reader(uint32_t map, uint32_t size, uint32_t overwritable);
GADGET__IMPORT(perfReaderPause) uint32_t gadget__perf_reader_pause(uint32_t reader);
GADGET__IMPORT(perfReaderResume) uint32_t gadget__perf_reader_resume(uint32_t reader);
GADGET__IMPORT(perfReaderRead) uint32_t gadget__perf_reader_read(uint32_t reader, uint64_t dst);
GADGET__IMPORT(perfReaderClose) uint32_t gadget__perf_reader_close(uint32_t reader);
GADGET__IMPORT(kallsymsSymbolExists) uint32_t gadget__kallsyms_symbol_exists(uint64_t name);
GADGET__IMPORT(shouldDiscardMntnsID) uint32_t gadget__should_discard_mntns_id(uint64_t mntns_id);

/* A buffer as IG passes it: length << 32 | address; a string without its terminating zero (0 when empty). */
static inline uint64_t gadget_buf(const void *p, uint32_t len)
{
	return ((uint64_t)len << 32) | (uint32_t)(uintptr_t)p;
}
static inline uint64_t gadget_str(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n ? gadget_buf(s, (uint32_t)n) : 0;
}
#define GADGET__RET(x) ((x) == 0 ? 0 : -1)

/* ---- log ---- */
static inline bool gadget_should_log(enum gadget_log_level level)
{
	return gadget__should_log(level) == 1;
}
static inline void gadget_log(enum gadget_log_level level, const char *msg)
{
	gadget__log(level, gadget_str(msg));
}
__attribute__((format(printf, 2, 3))) static inline void gadget_logf(enum gadget_log_level level, const char *fmt, ...)
{
	static char buf[4096];
	va_list ap;
	if (!gadget_should_log(level))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	gadget_log(level, buf);
}
#define gadget_errorf(...) gadget_logf(GADGET_LOG_ERROR, __VA_ARGS__)
#define gadget_warnf(...) gadget_logf(GADGET_LOG_WARN, __VA_ARGS__)
#define gadget_infof(...) gadget_logf(GADGET_LOG_INFO, __VA_ARGS__)
#define gadget_debugf(...) gadget_logf(GADGET_LOG_DEBUG, __VA_ARGS__)
#define gadget_tracef(...) gadget_logf(GADGET_LOG_TRACE, __VA_ARGS__)

/* ---- datasources ---- */
typedef void (*gadget_data_fn)(gadget_datasource ds, gadget_data data, void *ctx);
typedef int (*gadget_array_fn)(gadget_datasource ds, gadget_data_array array, void *ctx);
typedef int (*gadget_packet_fn)(gadget_datasource ds, gadget_packet packet, void *ctx);

static inline gadget_datasource gadget_get_datasource(const char *name)
{
	return gadget__get_datasource(gadget_str(name));
}
static inline gadget_datasource gadget_new_datasource(const char *name, enum gadget_datasource_type type)
{
	return gadget__new_datasource(gadget_str(name), type);
}
/* subscriptions: dataSourceCallback (below) dispatches on the id registered here */
#ifndef GADGET_MAX_SUBSCRIPTIONS
#define GADGET_MAX_SUBSCRIPTIONS 64
#endif
struct gadget__subscription {
	uint32_t type;
	void *fn;
	void *ctx;
};
extern struct gadget__subscription gadget__subscriptions[GADGET_MAX_SUBSCRIPTIONS];
extern uint32_t gadget__nsubscriptions;
static inline int gadget__subscribe_any(gadget_datasource ds, uint32_t type, void *fn, void *ctx, uint32_t priority)
{
	if (gadget__nsubscriptions == GADGET_MAX_SUBSCRIPTIONS)
		return -1;
	uint32_t id = gadget__nsubscriptions;
	gadget__subscriptions[id] = (struct gadget__subscription){ type, fn, ctx };
	if (gadget__subscribe(ds, type, priority, id + 1) != 0)
		return -1;
	gadget__nsubscriptions++;
	return 0;
}
/* fn is called for each record (Data), each array (Array), each packet (Packet), at `priority` (lower first) */
static inline int gadget_subscribe(gadget_datasource ds, gadget_data_fn fn, void *ctx, uint32_t priority)
{
	return gadget__subscribe_any(ds, 1, (void *)fn, ctx, priority);
}
static inline int gadget_subscribe_array(gadget_datasource ds, gadget_array_fn fn, void *ctx, uint32_t priority)
{
	return gadget__subscribe_any(ds, 2, (void *)fn, ctx, priority);
}
static inline int gadget_subscribe_packet(gadget_datasource ds, gadget_packet_fn fn, void *ctx, uint32_t priority)
{
	return gadget__subscribe_any(ds, 3, (void *)fn, ctx, priority);
}
static inline gadget_field gadget_get_field(gadget_datasource ds, const char *name)
{
	return gadget__get_field(ds, gadget_str(name));
}
static inline gadget_field gadget_add_field(gadget_datasource ds, const char *name, enum gadget_field_kind kind)
{
	return gadget__add_field(ds, gadget_str(name), kind);
}
static inline gadget_packet gadget_new_packet_single(gadget_datasource ds)
{
	return gadget__new_packet_single(ds);
}
static inline gadget_packet gadget_new_packet_array(gadget_datasource ds)
{
	return gadget__new_packet_array(ds);
}
static inline int gadget_emit_and_release(gadget_datasource ds, gadget_packet packet)
{
	return GADGET__RET(gadget__emit_and_release(ds, packet));
}
/* releases a packet without sending it; in ig, releasing the record or packet being delivered drops it */
static inline int gadget_release(gadget_datasource ds, gadget_packet packet)
{
	return GADGET__RET(gadget__release(ds, packet));
}
static inline int gadget_unreference(gadget_datasource ds)
{
	return GADGET__RET(gadget__unreference(ds));
}
static inline bool gadget_is_referenced(gadget_datasource ds)
{
	return gadget__is_referenced(ds) == 1;
}

/* ---- data arrays ---- */
static inline gadget_data gadget_array_new(gadget_data_array a)
{
	return gadget__array_new(a);
}
static inline int gadget_array_append(gadget_data_array a, gadget_data d)
{
	return GADGET__RET(gadget__array_append(a, d));
}
static inline int gadget_array_release(gadget_data_array a, gadget_data d)
{
	return GADGET__RET(gadget__array_release(a, d));
}
static inline uint32_t gadget_array_len(gadget_data_array a)
{
	return gadget__array_len(a);
}
static inline gadget_data gadget_array_get(gadget_data_array a, uint32_t index)
{
	return gadget__array_get(a, index);
}

/* ---- fields: gadget_field_<kind>(field, data, &out) -> 0 / -1, gadget_field_set_<kind>(field, data, v) ---- */
static inline int gadget__get(gadget_field f, gadget_data d, enum gadget_field_kind kind, uint64_t *out)
{
	uint32_t err = 0;
	*out = gadget__field_get_scalar(f, d, kind, (uint32_t)(uintptr_t)&err);
	return err ? -1 : 0;
}
#define GADGET__SCALAR(name, type, KIND)                                                  \
	static inline int gadget_field_##name(gadget_field f, gadget_data d, type *out)      \
	{                                                                                 \
		uint64_t v;                                                               \
		if (gadget__get(f, d, KIND, &v))                                          \
			return -1;                                                        \
		*out = (type)v;                                                           \
		return 0;                                                                 \
	}                                                                                 \
	static inline int gadget_field_set_##name(gadget_field f, gadget_data d, type v) \
	{                                                                                 \
		return GADGET__RET(gadget__field_set(f, d, KIND, (uint64_t)v));           \
	}
GADGET__SCALAR(int8, int8_t, GADGET_KIND_INT8)
GADGET__SCALAR(int16, int16_t, GADGET_KIND_INT16)
GADGET__SCALAR(int32, int32_t, GADGET_KIND_INT32)
GADGET__SCALAR(int64, int64_t, GADGET_KIND_INT64)
GADGET__SCALAR(uint8, uint8_t, GADGET_KIND_UINT8)
GADGET__SCALAR(uint16, uint16_t, GADGET_KIND_UINT16)
GADGET__SCALAR(uint32, uint32_t, GADGET_KIND_UINT32)
GADGET__SCALAR(uint64, uint64_t, GADGET_KIND_UINT64)
#undef GADGET__SCALAR

static inline int gadget_field_bool(gadget_field f, gadget_data d, bool *out)
{
	uint64_t v;
	if (gadget__get(f, d, GADGET_KIND_BOOL, &v))
		return -1;
	*out = v == 1;
	return 0;
}
static inline int gadget_field_set_bool(gadget_field f, gadget_data d, bool v)
{
	return GADGET__RET(gadget__field_set(f, d, GADGET_KIND_BOOL, v ? 1 : 0));
}
/* floats travel as their IEEE 754 bits */
static inline int gadget_field_float32(gadget_field f, gadget_data d, float *out)
{
	uint64_t v;
	uint32_t bits;
	if (gadget__get(f, d, GADGET_KIND_FLOAT32, &v))
		return -1;
	bits = (uint32_t)v;
	memcpy(out, &bits, 4);
	return 0;
}
static inline int gadget_field_set_float32(gadget_field f, gadget_data d, float v)
{
	uint32_t bits;
	memcpy(&bits, &v, 4);
	return GADGET__RET(gadget__field_set(f, d, GADGET_KIND_FLOAT32, bits));
}
static inline int gadget_field_float64(gadget_field f, gadget_data d, double *out)
{
	uint64_t v;
	if (gadget__get(f, d, GADGET_KIND_FLOAT64, &v))
		return -1;
	memcpy(out, &v, 8);
	return 0;
}
static inline int gadget_field_set_float64(gadget_field f, gadget_data d, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, 8);
	return GADGET__RET(gadget__field_set(f, d, GADGET_KIND_FLOAT64, bits));
}
/* the field's bytes into dst (at most size); the number of bytes, or -1 (also when they do not fit) */
static inline int32_t gadget_field_bytes(gadget_field f, gadget_data d, void *dst, uint32_t size)
{
	return gadget__field_get_buffer(f, d, GADGET_KIND_BYTES, gadget_buf(dst, size));
}
/* the field as a C string in dst (size bytes, zero-terminated, cut at the field's first zero); its length, or -1 */
static inline int32_t gadget_field_string(gadget_field f, gadget_data d, char *dst, uint32_t size)
{
	int32_t n;
	if (size == 0)
		return -1;
	n = gadget__field_get_buffer(f, d, GADGET_KIND_STRING, gadget_buf(dst, size - 1));
	if (n < 0)
		return -1;
	dst[n] = 0;
	return (int32_t)strlen(dst);
}
static inline int gadget_field_set_string(gadget_field f, gadget_data d, const char *s)
{
	return GADGET__RET(gadget__field_set(f, d, GADGET_KIND_STRING, gadget_str(s)));
}
static inline int gadget_field_set_string_len(gadget_field f, gadget_data d, const char *s, uint32_t len)
{
	return GADGET__RET(gadget__field_set(f, d, GADGET_KIND_STRING, len ? gadget_buf(s, len) : 0));
}
static inline int gadget_field_set_bytes(gadget_field f, gadget_data d, const void *buf, uint32_t len)
{
	return GADGET__RET(gadget__field_set(f, d, GADGET_KIND_BYTES, gadget_buf(buf, len)));
}
static inline int gadget_field_add_tag(gadget_field f, const char *tag)
{
	return GADGET__RET(gadget__field_add_tag(f, gadget_str(tag)));
}

/* ---- params and config ---- */
/* the param's value in dst (zero-terminated; size includes the zero) */
static inline int gadget_get_param_value(const char *key, char *dst, uint32_t size)
{
	if (size == 0)
		return -1;
	memset(dst, 0, size);
	return GADGET__RET(gadget__get_param_value(gadget_str(key), gadget_buf(dst, size - 1)));
}
static inline int gadget_set_config(const char *key, const char *value)
{
	return GADGET__RET(gadget__set_config(gadget_str(key), gadget_str(value), GADGET_KIND_STRING));
}

/* ---- maps ---- */
struct gadget_map_spec {
	const char *name;
	enum gadget_map_type type;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
};
static inline gadget_map gadget_new_map(const struct gadget_map_spec *spec)
{
	return gadget__new_map(gadget_str(spec->name), spec->type, spec->key_size, spec->value_size, spec->max_entries);
}
/* the gadget's own map (from gadgetStart on, once loaded); release the handle with gadget_release_handle */
static inline gadget_map gadget_get_map(const char *name)
{
	return gadget__get_map(gadget_str(name));
}
static inline int gadget_map_lookup(gadget_map m, const void *key, uint32_t key_size, void *value, uint32_t value_size)
{
	return GADGET__RET(gadget__map_lookup(m, gadget_buf(key, key_size), gadget_buf(value, value_size)));
}
static inline int gadget_map_update(gadget_map m, const void *key, uint32_t key_size, const void *value, uint32_t value_size,
				    enum gadget_map_update_flags flags)
{
	return GADGET__RET(gadget__map_update(m, gadget_buf(key, key_size), gadget_buf(value, value_size), flags));
}
static inline int gadget_map_put(gadget_map m, const void *key, uint32_t key_size, const void *value, uint32_t value_size)
{
	return gadget_map_update(m, key, key_size, value, value_size, GADGET_UPDATE_ANY);
}
static inline int gadget_map_delete(gadget_map m, const void *key, uint32_t key_size)
{
	return GADGET__RET(gadget__map_delete(m, gadget_buf(key, key_size)));
}
/* closes a map made by gadget_new_map */
static inline int gadget_map_close(gadget_map m)
{
	return GADGET__RET(gadget__map_release(m));
}
static inline int gadget_release_handle(uint32_t handle)
{
	return GADGET__RET(gadget__release_handle(handle));
}

/* ---- perf readers ---- */
static inline gadget_perf_reader gadget_new_perf_reader(gadget_map m, uint32_t size, bool overwritable)
{
	return gadget__new_perf_reader(m, size, overwritable ? 1 : 0);
}
static inline int gadget_perf_reader_pause(gadget_perf_reader r)
{
	return GADGET__RET(gadget__perf_reader_pause(r));
}
static inline int gadget_perf_reader_resume(gadget_perf_reader r)
{
	return GADGET__RET(gadget__perf_reader_resume(r));
}
/* 0: a record in dst; GADGET_PERF_DEADLINE: nothing (more) to read; -1: error */
static inline int gadget_perf_reader_read(gadget_perf_reader r, void *dst, uint32_t size)
{
	uint32_t ret = gadget__perf_reader_read(r, gadget_buf(dst, size));
	return ret == 0 ? 0 : ret == 2 ? GADGET_PERF_DEADLINE : -1;
}
static inline int gadget_perf_reader_close(gadget_perf_reader r)
{
	return GADGET__RET(gadget__perf_reader_close(r));
}

/* ---- syscalls ---- */
#define GADGET_SYSCALL_PARAM_IS_POINTER 1
#define GADGET_MAX_SYSCALL_LENGTH 64
struct gadget_syscall_param {
	char name[32];
	uint32_t flags;
};
struct gadget_syscall_declaration {
	char name[32];
	uint8_t nr_params;
	uint8_t pad[3];
	struct gadget_syscall_param params[6];
};
_Static_assert(sizeof(struct gadget_syscall_declaration) == 252, "IG's syscall declaration is 252 bytes");
static inline int gadget_get_syscall_name(uint16_t id, char *dst, uint32_t size)
{
	if (size == 0)
		return -1;
	memset(dst, 0, size);
	return GADGET__RET(gadget__get_syscall_name(id, gadget_buf(dst, size - 1)));
}
/* the syscall's number, or -1 */
static inline int32_t gadget_get_syscall_id(const char *name)
{
	return gadget__get_syscall_id(gadget_str(name));
}
static inline int gadget_get_syscall_declaration(const char *name, struct gadget_syscall_declaration *out)
{
	memset(out, 0, sizeof(*out));
	return GADGET__RET(gadget__get_syscall_declaration(gadget_str(name), gadget_buf(out, sizeof(*out))));
}

/* ---- kallsyms, mount namespace filter ---- */
static inline bool gadget_kallsyms_symbol_exists(const char *symbol)
{
	return gadget__kallsyms_symbol_exists(gadget_str(symbol)) != 0;
}
static inline bool gadget_should_discard_mntns_id(uint64_t mntns_id)
{
	return gadget__should_discard_mntns_id(mntns_id) != 0;
}

/* ---- the exports every module has ---- */
#ifndef GADGET_WASM_NO_EXPORTS
struct gadget__subscription gadget__subscriptions[GADGET_MAX_SUBSCRIPTIONS];
uint32_t gadget__nsubscriptions;

GADGET_EXPORT(gadgetAPIVersion) uint64_t gadget__api_version(void)
{
	return GADGET_API_VERSION;
}

GADGET_EXPORT(dataSourceCallback) void gadget__datasource_callback(uint64_t id, uint32_t ds, uint32_t data)
{
	struct gadget__subscription *s;
	if (id == 0 || id > gadget__nsubscriptions)
		return;
	s = &gadget__subscriptions[id - 1];
	switch (s->type) {
	case 1:
		((gadget_data_fn)s->fn)(ds, data, s->ctx);
		break;
	case 2:
		((gadget_array_fn)s->fn)(ds, data, s->ctx);
		break;
	case 3:
		((gadget_packet_fn)s->fn)(ds, data, s->ctx);
		break;
	}
}
#endif

#endif /* GADGET_WASM_H */
