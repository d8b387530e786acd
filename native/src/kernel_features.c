// libbpf's kernel feature probes, kept across runs (src/runtime/kernel-features-cache.ts).
//
// Before its first load in a process libbpf asks the kernel what it supports (program names,
// global data, BTF kinds, perf links, ...): ~15 probe syscalls, each loading a tiny program, map
// or BTF, ~1 ms of every `ig run`. The answers are kept in a cache that is private to libbpf's
// features.c (a static array, no API to read or fill it). So this file is features.c itself, built
// into the addon ahead of libbpf.a: the linker then takes every symbol features.o would give
// from here and never pulls features.o in, and the two functions below reach the same array.
// libbpf's own source, whatever version fetch-libbpf.sh built (the same trick as libbpf-layout.c).
#include "features.c"

#include "kernel_features.h"

size_t ig_kernel_features_count(void) { return __FEAT_CNT; }

size_t ig_kernel_features_get(uint8_t *out, size_t n) {
	size_t i;

	for (i = 0; i < n && i < __FEAT_CNT; i++)
		out[i] = (uint8_t)READ_ONCE(feature_cache.res[i]);
	return i;
}

// Only "supported" is taken: a probe that failed for a passing reason (memory, a limit) would
// otherwise stay "missing" for the whole boot. What libbpf has probed already stays as it is.
void ig_kernel_features_set_supported(const uint8_t *in, size_t n) {
	size_t i;

	if (n != __FEAT_CNT)
		return;
	for (i = 0; i < n; i++)
		if (in[i] == FEAT_SUPPORTED && READ_ONCE(feature_cache.res[i]) == FEAT_UNKNOWN)
			WRITE_ONCE(feature_cache.res[i], FEAT_SUPPORTED);
}
