// Iterator programs' attach BTF ids given to libbpf before load, so that it does not read and
// parse the kernel's whole BTF to find them (preset_attach.c).
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bpf_object;

// Sets attach_btf_id (a type of the kernel's own BTF, not a module's) on every program loaded
// from an `iter/` section listed in sections[i] → ids[i], and gives libbpf an empty BTF as the
// kernel's so bpf_object__load does not parse /sys/kernel/btf/vmlinux (an empty one: any other
// lookup in it fails instead of finding a wrong type). Only when every autoloaded program that
// would make libbpf read the kernel's BTF (tracing, LSM, struct_ops programs; struct_ops maps) is
// such an iterator with a given id; otherwise nothing is changed. Returns 1 when it applied, 0 when
// not (libbpf then finds the ids itself, as usual). Call after every program type change, right
// before bpf_object__load.
int ig_preset_iter_attach(struct bpf_object* obj, const char* const* sections, const uint32_t* ids, size_t n);

#ifdef __cplusplus
}
#endif
