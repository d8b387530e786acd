// CO-RE relocations computed the way bpf_object__load computes them (core_relo.c), so the
// runtime can prove that a small BTF relocates an object exactly as this kernel's full BTF does.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct btf;
struct ig_core_obj;

// What one relocation patches into its instruction (libbpf's bpf_core_relo_res, packed; a
// target type id is left out: it is only meaningful in the BTF it came from).
struct ig_core_result {
  uint32_t kind;
  uint32_t insn_off;
  uint64_t orig_val;
  uint64_t new_val;
  uint32_t orig_sz;
  uint32_t new_sz;
  uint8_t poison;
  uint8_t validate;
  uint8_t fail_memsz_adjust;
  uint8_t pad[5];
};

// Functions returning int: 0 done; 1 the object cannot use a minimal BTF, `why` says why;
// there is no other outcome (errors are reasons too).

// The object's BTF and CO-RE relocations, from its ELF bytes. Reasons: no relocations, or a
// program libbpf loads with the kernel's whole BTF anyway (tracing, LSM, ksyms).
int ig_core_open(const void* elf, size_t len, struct ig_core_obj** out, char* why, size_t whylen);
size_t ig_core_count(const struct ig_core_obj* o);
// The object's iterator program sections ("iter/task"), and the attach BTF id libbpf would find
// for one in `kernel` (this kernel's own BTF); reason: it is not there (a module's iterator).
size_t ig_core_iter_count(const struct ig_core_obj* o);
const char* ig_core_iter_section(const struct ig_core_obj* o, size_t i);
int ig_core_iter_attach_id(const struct ig_core_obj* o, const struct btf* kernel, size_t i, uint32_t* id, char* why,
                           size_t whylen);
void ig_core_close(struct ig_core_obj* o);

// Every relocation against `targ` into results[ig_core_count()]. Each must find exactly one
// candidate type there. With `minimal`, also the BTF holding just what the relocations read
// of `targ` (the candidate types; of structs and unions only the members on a relocation's path).
int ig_core_resolve(const struct ig_core_obj* o, const struct btf* targ, struct ig_core_result* results,
                    struct btf** minimal, char* why, size_t whylen);

#ifdef __cplusplus
}
#endif
