// See kernel_features.c: libbpf's cache of kernel feature probes, read and given back.
#pragma once
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
// how many features this libbpf probes (the length of the two arrays below)
size_t ig_kernel_features_count(void);
// each feature's state: 0 not probed yet, 1 supported, 2 missing; returns the count written
size_t ig_kernel_features_get(uint8_t *out, size_t n);
// marks as supported each feature `in` says is (1) and libbpf has not probed; ignored unless n is the count
void ig_kernel_features_set_supported(const uint8_t *in, size_t n);
#ifdef __cplusplus
}
#endif
