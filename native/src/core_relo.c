// CO-RE relocations of an eBPF object computed outside bpf_object__load, and the minimal kernel
// BTF they need. libbpf has no public API for either; this file uses the same internal functions
// bpftool's `gen min_core_btf` uses (bpf_core_add_cands, bpf_core_calc_relo_insn), which the
// addon can call because it links the vendored libbpf statically. It is C, not C++, because
// libbpf's internal header is C. See core_relo.h for what it promises.
#include "core_relo.h"

#include <errno.h>
#include <gelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include "libbpf_internal.h"
#include "relo_core.h"

#define MAX_ITERS 16

struct ig_core_obj {
  struct btf *btf;
  struct btf_ext *ext;
  size_t nrelo;
  // iterator programs' sections ("iter/task"): their attach BTF ids are found once, on a miss
  size_t niters;
  char *iters[MAX_ITERS];
};

static const char *kind_name(const struct btf_type *t) {
  static const char *const names[] = {"unknown", "int", "ptr", "array", "struct", "union", "enum", "fwd",
    "typedef", "volatile", "const", "restrict", "func", "func_proto", "var", "datasec", "float",
    "decl_tag", "type_tag", "enum64"};
  unsigned k = btf_kind(t);
  return k < sizeof names / sizeof *names ? names[k] : "unknown";
}

static int say(char *why, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, len, fmt, ap);
  va_end(ap);
  return 1;
}

// Section bytes by name, from an ELF image in memory.
static int elf_section(Elf *elf, const char *want, const void **data, size_t *size) {
  size_t shstrndx;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) return -EINVAL;
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == NULL) return -EINVAL;
    const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
    if (name == NULL || strcmp(name, want) != 0) continue;
    Elf_Data *d = elf_getdata(scn, NULL);
    if (d == NULL || d->d_buf == NULL) return -EINVAL;
    *data = d->d_buf;
    *size = d->d_size;
    return 0;
  }
  return -ENOENT;
}

// Program sections whose load makes libbpf read this kernel's whole BTF whatever the CO-RE
// target (attach BTF ids of tracing, LSM and struct_ops programs). Iterators too, but the runtime
// gives libbpf their ids (preset_attach.c): those are collected instead.
static const char *const kNeedsKernelBtf[] = {
  "tp_btf/", "fentry/", "fentry.s/", "fexit/", "fexit.s/", "fmod_ret/",
  "fmod_ret.s/", "lsm/", "lsm.s/", "lsm_cgroup/", "struct_ops", "freplace/",
};
static const char *const kIterators[] = { "iter/", "iter.s/" };

static int has_prefix(const char *name, const char *const *prefixes, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0) return 1;
  return 0;
}

// The first section that needs the whole BTF (NULL: none); iterator sections into iters.
static const char *needs_kernel_btf(Elf *elf, struct ig_core_obj *o) {
  size_t shstrndx;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) return NULL;
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == NULL) continue;
    const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
    if (name == NULL) continue;
    if (has_prefix(name, kNeedsKernelBtf, sizeof kNeedsKernelBtf / sizeof *kNeedsKernelBtf)) return name;
    if (!has_prefix(name, kIterators, sizeof kIterators / sizeof *kIterators) || sh.sh_type != SHT_PROGBITS) continue;
    // "iter/vmlinux:task" names the BTF object to look in, more than MAX_ITERS is not worth it
    if (strchr(name, ':') != NULL || o->niters == MAX_ITERS) return name;
    o->iters[o->niters++] = strdup(name);
  }
  return NULL;
}

int ig_core_open(const void *elf_bytes, size_t len, struct ig_core_obj **out, char *why, size_t whylen) {
  *out = NULL;
  elf_version(EV_CURRENT);
  Elf *elf = elf_memory((char *)elf_bytes, len);
  if (elf == NULL) return say(why, whylen, "not an ELF object");
  int rc = 0;
  const void *btf_data, *ext_data;
  size_t btf_size, ext_size;
  const char *sec;
  struct ig_core_obj *o = calloc(1, sizeof *o);
  if ((sec = needs_kernel_btf(elf, o)) != NULL) {
    rc = say(why, whylen, "section %s makes libbpf read the kernel's whole BTF anyway", sec);
  } else if (elf_section(elf, ".BTF", &btf_data, &btf_size) != 0) {
    rc = say(why, whylen, "no .BTF section");
  } else if (elf_section(elf, ".BTF.ext", &ext_data, &ext_size) != 0) {
    rc = say(why, whylen, "no CO-RE relocations (no .BTF.ext section)");
  } else {
    o->btf = btf__new(btf_data, btf_size);
    o->ext = o->btf ? btf_ext__new(ext_data, ext_size) : NULL;
    if (o->btf == NULL || o->ext == NULL) {
      rc = say(why, whylen, "libbpf cannot parse the object's %s", o->btf ? ".BTF.ext" : ".BTF");
    } else {
      btf__set_pointer_size(o->btf, 8);  // as libbpf does for BPF-targeted BTF
      // kernel symbols and kfuncs (externs in .ksyms) are resolved against the whole BTF too
      if (btf__find_by_name_kind(o->btf, ".ksyms", BTF_KIND_DATASEC) > 0) {
        rc = say(why, whylen, "its .ksyms externs make libbpf read the kernel's whole BTF anyway");
      }
      const struct btf_ext_info *seg = &o->ext->core_relo_info;
      const struct btf_ext_info_sec *s;
      for_each_btf_ext_sec(seg, s) o->nrelo += s->num_info;
      if (rc == 0 && o->nrelo == 0) rc = say(why, whylen, "no CO-RE relocations");
    }
  }
  elf_end(elf);
  if (rc != 0 && o != NULL) {
    ig_core_close(o);
    o = NULL;
  }
  *out = o;
  return rc;
}

void ig_core_close(struct ig_core_obj *o) {
  if (o == NULL) return;
  for (size_t i = 0; i < o->niters; i++) free(o->iters[i]);
  btf_ext__free(o->ext);
  btf__free(o->btf);
  free(o);
}

size_t ig_core_count(const struct ig_core_obj *o) { return o->nrelo; }

size_t ig_core_iter_count(const struct ig_core_obj *o) { return o->niters; }
const char *ig_core_iter_section(const struct ig_core_obj *o, size_t i) { return o->iters[i]; }

int ig_core_iter_attach_id(const struct ig_core_obj *o, const struct btf *kernel, size_t i, uint32_t *id, char *why,
                           size_t whylen) {
  // libbpf's find_attach_btf_id for BPF_TRACE_ITER: the FUNC "bpf_iter_<target>"
  char func[128];
  snprintf(func, sizeof func, "bpf_iter_%s", strchr(o->iters[i], '/') + 1);
  int got = btf__find_by_name_kind(kernel, func, BTF_KIND_FUNC);
  if (got <= 0)
    return say(why, whylen, "iterator %s: %s is not in the kernel's own BTF (a module's iterator?)", o->iters[i], func);
  *id = (uint32_t)got;
  return 0;
}

// ---- the minimal BTF: which target types (and which members of structs/unions) relocations use

struct marks {
  const struct btf *targ;
  // per target type id: 0 not needed, 1 needed (a pointer: to void), 2 a pointer with its pointee,
  // 3 a struct/union with all members; for composites a member bitmap beside it
  unsigned char *need;
  unsigned char **members;
  const char *bad;  // a kind this file does not copy
};

static void mark_type(struct marks *m, __u32 id) {
  while (id != 0 && !m->need[id]) {
    m->need[id] = 1;
    const struct btf_type *t = btf__type_by_id(m->targ, id);
    switch (btf_kind(t)) {
      case BTF_KIND_INT: case BTF_KIND_FLOAT: case BTF_KIND_ENUM: case BTF_KIND_ENUM64: case BTF_KIND_FWD:
      case BTF_KIND_PTR:  // copied as a pointer to void: field relocations only need its size
        return;
      case BTF_KIND_STRUCT: case BTF_KIND_UNION:
        m->members[id] = calloc(btf_vlen(t) ? btf_vlen(t) : 1, 1);
        return;
      case BTF_KIND_ARRAY:
        mark_type(m, btf_array(t)->index_type);
        id = btf_array(t)->type;
        break;
      case BTF_KIND_TYPEDEF: case BTF_KIND_CONST: case BTF_KIND_VOLATILE: case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG:
        id = t->type;
        break;
      case BTF_KIND_FUNC_PROTO:  // only reached behind a pointer kept by a type-matches relocation
        for (int i = 0; i < btf_vlen(t); i++) mark_type(m, btf_params(t)[i].type);
        id = t->type;
        break;
      default:
        m->bad = kind_name(t);
        return;
    }
  }
}

// What a type-matches relocation compares (libbpf's __bpf_core_types_match): structs and unions
// with all their members, recursively, and behind a pointer only the pointee's kind and name.
static void mark_match(struct marks *m, __u32 id, bool behind_ptr, int depth) {
  while (id != 0 && m->bad == NULL) {
    if (depth > 32) {
      m->bad = "too deeply nested";
      return;
    }
    const struct btf_type *t = btf__type_by_id(m->targ, id);
    mark_type(m, id);
    switch (btf_kind(t)) {
      case BTF_KIND_PTR:
        m->need[id] = 2;  // copied with its pointee
        behind_ptr = true;
        id = t->type;
        break;
      case BTF_KIND_TYPEDEF: case BTF_KIND_CONST: case BTF_KIND_VOLATILE: case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG:
        id = t->type;
        break;
      case BTF_KIND_ARRAY:
        id = btf_array(t)->type;
        break;
      case BTF_KIND_FUNC_PROTO:
        for (int i = 0; i < btf_vlen(t); i++) mark_match(m, btf_params(t)[i].type, behind_ptr, depth + 1);
        id = t->type;
        break;
      case BTF_KIND_STRUCT: case BTF_KIND_UNION:
        if (behind_ptr || m->need[id] == 3) return;
        m->need[id] = 3;  // every member
        for (int i = 0; i < btf_vlen(t); i++) {
          m->members[id][i] = 1;
          mark_match(m, btf_members(t)[i].type, false, depth + 1);
        }
        return;
      default:
        return;
    }
    depth++;
  }
}

// The path a field relocation takes through the target: each struct/union member on it.
static void mark_spec(struct marks *m, const struct bpf_core_spec *spec) {
  __u32 id = spec->root_type_id;
  mark_type(m, id);
  for (int i = 1; i < spec->raw_len; i++) {
    const struct btf_type *t = skip_mods_and_typedefs(m->targ, id, &id);
    if (btf_is_composite(t)) {
      int idx = spec->raw_spec[i];
      if (idx < 0 || idx >= btf_vlen(t)) return;
      m->members[id][idx] = 1;
      id = btf_members(t)[idx].type;
      mark_type(m, id);
    } else if (btf_is_array(t)) {
      id = btf_array(t)->type;
    } else {
      return;
    }
  }
}

static int emit(struct marks *m, struct btf **out, char *why, size_t whylen) {
  __u32 n = btf__type_cnt(m->targ);
  __u32 *newid = calloc(n, sizeof *newid);
  __u32 next = 1;
  for (__u32 id = 1; id < n; id++)
    if (m->need[id]) newid[id] = next++;
  struct btf *b = btf__new_empty();
  int rc = 0;
  for (__u32 id = 1; id < n && rc == 0; id++) {
    if (!m->need[id]) continue;
    const struct btf_type *t = btf__type_by_id(m->targ, id);
    const char *name = btf__name_by_offset(m->targ, t->name_off);
    int got;
    if (btf_is_composite(t)) {
      got = btf_is_struct(t) ? btf__add_struct(b, name, t->size) : btf__add_union(b, name, t->size);
      const struct btf_member *mem = btf_members(t);
      for (int i = 0; i < btf_vlen(t) && got > 0; i++) {
        if (!m->members[id][i]) continue;
        int e = btf__add_field(b, btf__name_by_offset(m->targ, mem[i].name_off), (int)newid[mem[i].type],
                               btf_member_bit_offset(t, i), btf_member_bitfield_size(t, i));
        if (e < 0) got = e;
      }
    } else if (btf_is_ptr(t) && m->need[id] == 1) {
      got = btf__add_ptr(b, 0);
    } else {
      got = btf__add_type(b, m->targ, t);
      if (got > 0) {
        struct btf_type *c = btf_type_by_id(b, got);
        if (btf_is_array(c)) {
          btf_array(c)->type = newid[btf_array(c)->type];
          btf_array(c)->index_type = newid[btf_array(c)->index_type];
        } else if (btf_is_mod(c) || btf_is_typedef(c) || btf_is_type_tag(c) || btf_is_ptr(c)) {
          c->type = newid[c->type];
        } else if (btf_is_func_proto(c)) {
          c->type = newid[c->type];
          for (int i = 0; i < btf_vlen(c); i++) btf_params(c)[i].type = newid[btf_params(c)[i].type];
        }
      }
    }
    if (got < 0 || (__u32)got != newid[id]) rc = say(why, whylen, "building the minimal BTF failed at type %u", id);
  }
  free(newid);
  if (rc != 0) {
    btf__free(b);
    return rc;
  }
  *out = b;
  return 0;
}

// ---- relocations

static void put_result(struct ig_core_result *r, const struct bpf_core_relo *relo, const struct bpf_core_relo_res *res) {
  memset(r, 0, sizeof *r);
  r->kind = relo->kind;
  r->insn_off = relo->insn_off;
  r->poison = res->poison;
  r->validate = res->validate;
  r->fail_memsz_adjust = res->fail_memsz_adjust;
  r->orig_val = res->orig_val;
  // a target type id names a type of the BTF it was computed against: never comparable
  r->new_val = relo->kind == BPF_CORE_TYPE_ID_TARGET ? 0 : res->new_val;
  r->orig_sz = res->orig_sz;
  r->new_sz = res->new_sz;
}

int ig_core_resolve(const struct ig_core_obj *o, const struct btf *targ, struct ig_core_result *results,
                    struct btf **minimal, char *why, size_t whylen) {
  __u32 ntarg = btf__type_cnt(targ);
  __u32 nlocal = btf__type_cnt(o->btf);
  struct bpf_core_cand_list **cache = calloc(nlocal, sizeof *cache);
  struct marks m = { .targ = targ };
  if (minimal != NULL) {
    *minimal = NULL;
    m.need = calloc(ntarg, 1);
    m.members = calloc(ntarg, sizeof *m.members);
  }
  int rc = 0;
  size_t k = 0;
  const struct btf_ext_info *seg = &o->ext->core_relo_info;
  const struct btf_ext_info_sec *sec;
  const struct bpf_core_relo *rec;
  int i;
  for_each_btf_ext_sec(seg, sec) {
    for_each_btf_ext_rec(seg, sec, i, rec) {
      if (rc != 0) break;
      struct bpf_core_relo_res res;
      struct bpf_core_spec specs[3];
      memset(specs, 0, sizeof specs);
      struct bpf_core_cand_list *cands = NULL;
      if (rec->type_id >= nlocal) {
        rc = say(why, whylen, "relocation #%zu names local type %u, which the object's BTF lacks", k, rec->type_id);
        break;
      }
      if (rec->kind == BPF_CORE_TYPE_ID_TARGET) {
        // a kernel type id differs in any other BTF
        rc = say(why, whylen, "relocation #%zu is a target type id relocation", k);
        break;
      }
      if (rec->kind != BPF_CORE_TYPE_ID_LOCAL) {
        cands = cache[rec->type_id];
        if (cands == NULL) {
          struct bpf_core_cand local = { .btf = o->btf, .id = rec->type_id };
          const struct btf_type *lt = btf__type_by_id(o->btf, rec->type_id);
          const char *lname = btf__name_by_offset(o->btf, lt->name_off);
          cands = calloc(1, sizeof *cands);
          cache[rec->type_id] = cands;
          if (lname == NULL || *lname == '\0' ||
              bpf_core_add_cands(&local, bpf_core_essential_name_len(lname), targ, "target", 1, cands) != 0) {
            rc = say(why, whylen, "relocation #%zu: no candidate search for an anonymous type", k);
            break;
          }
        }
        // Exactly one candidate: libbpf then relocates the same whatever the order of relocations
        // or the programs loaded (its candidate cache narrows lists of several), and with none it
        // would look in kernel modules' BTF, which a minimal BTF cannot stand for.
        if (cands->len != 1) {
          const struct btf_type *lt = btf__type_by_id(o->btf, rec->type_id);
          rc = say(why, whylen, "relocation #%zu: %d candidates for %s %s in the target", k, cands->len,
                   kind_name(lt), btf__name_by_offset(o->btf, lt->name_off));
          break;
        }
      }
      int err = bpf_core_calc_relo_insn("ig", rec, (int)k, o->btf, cands, specs, &res);
      if (err != 0) {
        rc = say(why, whylen, "relocation #%zu cannot be computed (%d)", k, err);
        break;
      }
      put_result(&results[k], rec, &res);
      if (minimal != NULL && cands != NULL) {
        mark_type(&m, cands->cands[0].id);  // the candidate itself, also when no field of it matched
        if (specs[2].btf != NULL && rec->kind <= BPF_CORE_FIELD_RSHIFT_U64) mark_spec(&m, &specs[2]);
        else if (specs[2].btf != NULL && rec->kind == BPF_CORE_TYPE_MATCHES) mark_match(&m, specs[2].root_type_id, false, 0);
        else if (specs[2].btf != NULL) mark_type(&m, specs[2].root_type_id);
        if (m.bad != NULL) rc = say(why, whylen, "relocation #%zu reaches a %s type", k, m.bad);
      }
      k++;
    }
  }
  if (rc == 0 && minimal != NULL) rc = emit(&m, minimal, why, whylen);
  for (__u32 id = 0; id < nlocal; id++) {
    if (cache[id] != NULL) bpf_core_free_cands(cache[id]);
  }
  free(cache);
  if (m.members != NULL) {
    for (__u32 id = 0; id < ntarg; id++) free(m.members[id]);
  }
  free(m.members);
  free(m.need);
  return rc;
}
