/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gadget/macros.h - markers that tell the ig runtime what a gadget object is.
 *
 * Every macro emits unused global variables. They cost nothing at run time but
 * land in the object's BTF (as VARs in .bss/.data), where the runtime finds them
 * by name. Name parts are separated by "___" (three underscores). See
 * spec/ / shared reference "ebpf-conventions.md".
 */
#ifndef __GADGET_MACROS_H
#define __GADGET_MACROS_H

#define __GADGET_CAT_(a, b) a##b
#define __GADGET_CAT(a, b) __GADGET_CAT_(a, b)

/* count 1..4 variadic arguments */
#define __GADGET_NARGS_(_1, _2, _3, _4, N, ...) N
#define __GADGET_NARGS(...) __GADGET_NARGS_(__VA_ARGS__, 4, 3, 2, 1)

/*
 * GADGET_TRACER(name, map, struct_name): datasource `name` streams records of
 * `struct struct_name` from the ring buffer / perf map `map` (declared with
 * GADGET_TRACER_MAP from gadget/buffer.h).
 * Marker: gadget_tracer_<name>___<map>___<struct_name>.
 * A second unused pointer keeps `struct struct_name` in BTF even when the
 * program only ever uses it through a void pointer.
 */
#define GADGET_TRACER(name, map, struct_name)                              \
	const void *gadget_tracer_##name##___##map##___##struct_name       \
		__attribute__((unused));                                   \
	const struct struct_name *__gadget_tracer_type_##name              \
		__attribute__((unused));

/*
 * GADGET_PARAM(var): `const volatile <type> var` (in .rodata) becomes a run
 * flag. The flag name is gadget.yaml's params.ebpf.<var>.key (else <var>);
 * the default is the value in .rodata. Marker: gadget_param_<var>.
 */
#define GADGET_PARAM(var) \
	const void *gadget_param_##var __attribute__((unused));

/*
 * GADGET_ITER(name, struct_name, prog1[, prog2[, prog3[, prog4]]]): iterator
 * programs (SEC("iter/...")) that write raw `struct struct_name` records with
 * bpf_seq_write(). Their outputs are concatenated into datasource `name`.
 * Marker: gadget_iter_<name>___<struct_name>___<prog1>[___<prog2>...].
 */
#define __GADGET_ITER_1(n, t, p1) \
	const void *gadget_iter_##n##___##t##___##p1 __attribute__((unused));
#define __GADGET_ITER_2(n, t, p1, p2)                                  \
	const void *gadget_iter_##n##___##t##___##p1##___##p2          \
		__attribute__((unused));
#define __GADGET_ITER_3(n, t, p1, p2, p3)                              \
	const void *gadget_iter_##n##___##t##___##p1##___##p2##___##p3 \
		__attribute__((unused));
#define __GADGET_ITER_4(n, t, p1, p2, p3, p4)                                  \
	const void *gadget_iter_##n##___##t##___##p1##___##p2##___##p3##___##p4 \
		__attribute__((unused));

#define GADGET_ITER(name, struct_name, ...)                                  \
	const struct struct_name *__gadget_iter_type_##name                  \
		__attribute__((unused));                                     \
	__GADGET_CAT(__GADGET_ITER_, __GADGET_NARGS(__VA_ARGS__))            \
	(name, struct_name, __VA_ARGS__)

/* IG's older name for the same thing. */
#define GADGET_SNAPSHOTTER(name, struct_name, ...) \
	GADGET_ITER(name, struct_name, __VA_ARGS__)

/*
 * GADGET_MAPITER(name, map): the HASH map `map` is read (lookup-and-delete, in
 * batches) every --map-fetch-interval into datasource `name`; its key and value
 * types give the fields. Marker: gadget_mapiter_<name>___<map>.
 */
#define GADGET_MAPITER(name, map) \
	const void *gadget_mapiter_##name##___##map __attribute__((unused));

/* Older IG spelling of a map iterator ("topper"). */
#define GADGET_TOPPER(name, map) GADGET_MAPITER(name, map)

/*
 * GADGET_ITER_TARGET_MAP(prog, map): the SEC("iter/bpf_map_elem") program
 * `prog` walks the elements of `map` (the kernel needs the map's fd when the
 * iterator is attached). Marker: gadget_mapelem_iter_target_<prog>___<map>.
 */
#define GADGET_ITER_TARGET_MAP(prog, map)                              \
	const void *gadget_mapelem_iter_target_##prog##___##map        \
		__attribute__((unused));

/*
 * GADGET_SK_TARGET_MAP(prog, map): attach the sk_skb / sk_msg program `prog`
 * to the SOCKMAP/SOCKHASH `map`. Marker: gadget_sk_prog_target_<prog>___<map>.
 */
#define GADGET_SK_TARGET_MAP(prog, map)                                \
	const void *gadget_sk_prog_target_##prog##___##map             \
		__attribute__((unused));

#endif /* __GADGET_MACROS_H */
