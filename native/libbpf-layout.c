// Compiled to assembly only (see the Makefile), never linked: it includes libbpf's own source so
// the compiler computes where the few fields ig sets before load (src/preset_attach.c) sit in
// this libbpf's private structs. The kernel's asm-offsets trick: each value comes out of the
// assembly as "->NAME VALUE", which the Makefile turns into build/libbpf_layout.h. Rebuilt with
// libbpf, so a libbpf whose structs moved gives the new offsets (and one without a field fails
// to build instead of writing into the wrong place).
#include "libbpf.c"

#define IG_DEFINE(sym, val) asm volatile("\n.ascii \"->" #sym " %0\"" : : "i"(val))
#define IG_FIELD(sym, type, field)                                   \
  IG_DEFINE(sym##_OFF, offsetof(type, field));                       \
  IG_DEFINE(sym##_SIZE, sizeof(((type *)0)->field))

void ig_libbpf_layout(void);
void ig_libbpf_layout(void) {
  IG_FIELD(IG_PROG_ATTACH_BTF_ID, struct bpf_program, attach_btf_id);
  IG_FIELD(IG_PROG_ATTACH_BTF_OBJ_FD, struct bpf_program, attach_btf_obj_fd);
  IG_FIELD(IG_OBJ_BTF_VMLINUX, struct bpf_object, btf_vmlinux);
}
