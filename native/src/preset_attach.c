// See preset_attach.h. libbpf has no public way to give a program its attach BTF id without
// reading the kernel's BTF (bpf_program__set_attach_target loads it first), but it skips its own
// search when prog->attach_btf_id is already set (libbpf_prepare_prog_load), and skips reading
// the kernel's BTF when obj->btf_vmlinux is already set (bpf_object__load_vmlinux_btf). Both are
// private fields: their offsets come from libbpf's own source at build time (libbpf-layout.c,
// build/libbpf_layout.h), and are checked for size here. libbpf frees btf_vmlinux after load.
#include "preset_attach.h"

#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "libbpf_layout.h"

_Static_assert(IG_PROG_ATTACH_BTF_ID_SIZE == sizeof(__u32), "libbpf's prog->attach_btf_id changed type");
_Static_assert(IG_PROG_ATTACH_BTF_OBJ_FD_SIZE == sizeof(__u32), "libbpf's prog->attach_btf_obj_fd changed type");
_Static_assert(IG_OBJ_BTF_VMLINUX_SIZE == sizeof(struct btf*), "libbpf's obj->btf_vmlinux changed type");

#define FIELD(p, off, type) ((type*)((char*)(p) + (off)))

static int given(const char* sec, const char* const* sections, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(sec, sections[i]) == 0) return (int)i;
  return -1;
}

int ig_preset_iter_attach(struct bpf_object* obj, const char* const* sections, const uint32_t* ids, size_t n) {
  struct bpf_program* p;
  struct bpf_map* m;
  int iters = 0;
  if (*FIELD(obj, IG_OBJ_BTF_VMLINUX_OFF, struct btf*) != NULL) return 0;
  bpf_object__for_each_map(m, obj) {
    if (bpf_map__type(m) == BPF_MAP_TYPE_STRUCT_OPS) return 0;
  }
  // first check everything (libbpf's prog_needs_vmlinux_btf), then change anything
  bpf_object__for_each_program(p, obj) {
    if (!bpf_program__autoload(p)) continue;
    enum bpf_prog_type t = bpf_program__type(p);
    if (t == BPF_PROG_TYPE_STRUCT_OPS || t == BPF_PROG_TYPE_LSM) return 0;
    if (t != BPF_PROG_TYPE_TRACING) continue;
    if (bpf_program__expected_attach_type(p) != BPF_TRACE_ITER) return 0;
    int i = given(bpf_program__section_name(p), sections, n);
    if (i < 0 || ids[i] == 0) return 0;
    iters++;
  }
  if (iters == 0) return 0;
  struct btf* empty = btf__new_empty();
  if (empty == NULL) return 0;
  bpf_object__for_each_program(p, obj) {
    if (!bpf_program__autoload(p) || bpf_program__type(p) != BPF_PROG_TYPE_TRACING) continue;
    *FIELD(p, IG_PROG_ATTACH_BTF_ID_OFF, __u32) = ids[given(bpf_program__section_name(p), sections, n)];
    *FIELD(p, IG_PROG_ATTACH_BTF_OBJ_FD_OFF, __u32) = 0;  // the kernel's own BTF
  }
  *FIELD(obj, IG_OBJ_BTF_VMLINUX_OFF, struct btf*) = empty;
  return 1;
}
