// The minimal CO-RE BTF of an object, and the check that a given BTF relocates the object as this
// kernel's does (core_relo.c does the work; this file only moves bytes between JS and it).
#include "common.h"
#include "core_relo.h"

#include <bpf/btf.h>

#include <cstring>
#include <string>
#include <vector>

namespace ig {

namespace {

struct CoreObj {
  ig_core_obj* o = nullptr;
  ~CoreObj() { ig_core_close(o); }
};

struct Btf {
  btf* b = nullptr;
  ~Btf() { btf__free(b); }
};

Napi::Object Reason(Napi::Env env, const char* why) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("reason", why);
  return out;
}

Napi::Buffer<uint8_t> ResultBytes(Napi::Env env, const std::vector<ig_core_result>& r) {
  return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(r.data()), r.size() * sizeof(ig_core_result));
}

// coreBtfMinimal(elf, targetPath?): { btf, results, iterators } | { reason }. Reads this kernel's BTF (or
// the BTF file given, as libbpf's btf_custom_path would), computes every
// relocation against it and builds the minimal BTF, then computes them again against that
// minimal BTF (parsed back from its bytes) and keeps it only when every result is the same.
Napi::Value CoreBtfMinimal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> elf = ArgBuffer(info, 0, "elf");
  char why[256] = "";
  CoreObj obj;
  if (ig_core_open(elf.Data(), elf.Length(), &obj.o, why, sizeof why) != 0) return Reason(env, why);
  // the relocation target: this kernel's BTF, or a file standing for it (btf_custom_path)
  std::string targetPath = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  Btf kernel;
  kernel.b = targetPath.empty() ? btf__load_vmlinux_btf() : btf__parse(targetPath.c_str(), nullptr);
  if (kernel.b == nullptr) return Reason(env, targetPath.empty() ? "this kernel's BTF cannot be read" : "the target BTF cannot be read");
  // iterators' attach BTF ids, found in this kernel's own BTF as libbpf would (preset_attach.c
  // gives them to libbpf at load); libbpf looks them up in the kernel's BTF, not a target file
  Napi::Object iterators = Napi::Object::New(env);
  for (size_t i = 0; i < ig_core_iter_count(obj.o); i++) {
    if (!targetPath.empty()) return Reason(env, "iterators with a CO-RE target other than the kernel's BTF");
    uint32_t id = 0;
    if (ig_core_iter_attach_id(obj.o, kernel.b, i, &id, why, sizeof why) != 0) return Reason(env, why);
    iterators.Set(ig_core_iter_section(obj.o, i), static_cast<double>(id));
  }
  size_t n = ig_core_count(obj.o);
  std::vector<ig_core_result> full(n), small(n);
  Btf minimal;
  if (ig_core_resolve(obj.o, kernel.b, full.data(), &minimal.b, why, sizeof why) != 0) return Reason(env, why);
  uint32_t size = 0;
  const void* raw = btf__raw_data(minimal.b, &size);
  if (raw == nullptr) return Reason(env, "the minimal BTF cannot be written");
  Napi::Buffer<uint8_t> bytes = Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t*>(raw), size);
  Btf back;
  back.b = btf__new(bytes.Data(), bytes.Length());
  if (back.b == nullptr) return Reason(env, "libbpf cannot parse the minimal BTF it wrote");
  if (ig_core_resolve(obj.o, back.b, small.data(), nullptr, why, sizeof why) != 0) return Reason(env, why);
  for (size_t i = 0; i < n; i++) {
    if (memcmp(&full[i], &small[i], sizeof(ig_core_result)) != 0) {
      snprintf(why, sizeof why, "relocation #%zu resolves differently against the minimal BTF", i);
      return Reason(env, why);
    }
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("btf", bytes);
  out.Set("results", ResultBytes(env, full));
  out.Set("iterators", iterators);
  return out;
}

// coreBtfResults(elf, btf): { results } | { reason }: every relocation of the object against
// these BTF bytes (no kernel BTF is read).
Napi::Value CoreBtfResults(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> elf = ArgBuffer(info, 0, "elf");
  Napi::Buffer<uint8_t> target = ArgBuffer(info, 1, "btf");
  char why[256] = "";
  CoreObj obj;
  if (ig_core_open(elf.Data(), elf.Length(), &obj.o, why, sizeof why) != 0) return Reason(env, why);
  Btf t;
  t.b = btf__new(target.Data(), target.Length());
  if (t.b == nullptr) return Reason(env, "libbpf cannot parse the BTF");
  std::vector<ig_core_result> r(ig_core_count(obj.o));
  if (ig_core_resolve(obj.o, t.b, r.data(), nullptr, why, sizeof why) != 0) return Reason(env, why);
  Napi::Object out = Napi::Object::New(env);
  out.Set("results", ResultBytes(env, r));
  return out;
}

}  // namespace

Napi::Object InitCoreBtf(Napi::Env env, Napi::Object exports) {
  exports.Set("coreBtfMinimal", Napi::Function::New(env, CoreBtfMinimal));
  exports.Set("coreBtfResults", Napi::Function::New(env, CoreBtfResults));
  return exports;
}

}  // namespace ig
