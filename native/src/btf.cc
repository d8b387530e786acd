// BTF export: every type of a struct btf as a plain JS object (see BtfType in index.d.ts).
#include "common.h"

#include <bpf/btf.h>

#include <cstdio>
#include <vector>

namespace ig {

namespace {

const char* KindName(int kind) {
  switch (kind) {
    case BTF_KIND_INT: return "int";
    case BTF_KIND_PTR: return "ptr";
    case BTF_KIND_ARRAY: return "array";
    case BTF_KIND_STRUCT: return "struct";
    case BTF_KIND_UNION: return "union";
    case BTF_KIND_ENUM: return "enum";
    case BTF_KIND_FWD: return "fwd";
    case BTF_KIND_TYPEDEF: return "typedef";
    case BTF_KIND_VOLATILE: return "volatile";
    case BTF_KIND_CONST: return "const";
    case BTF_KIND_RESTRICT: return "restrict";
    case BTF_KIND_FUNC: return "func";
    case BTF_KIND_FUNC_PROTO: return "func_proto";
    case BTF_KIND_VAR: return "var";
    case BTF_KIND_DATASEC: return "datasec";
    case BTF_KIND_FLOAT: return "float";
    case BTF_KIND_DECL_TAG: return "decl_tag";
    case BTF_KIND_TYPE_TAG: return "type_tag";
    case BTF_KIND_ENUM64: return "enum64";
    default: return "unknown";
  }
}

constexpr int64_t kMaxSafe = (int64_t{1} << 53) - 1;

Napi::Value Enum64Value(Napi::Env env, uint64_t raw, bool isSigned) {
  if (isSigned) {
    int64_t v = static_cast<int64_t>(raw);
    if (v >= -kMaxSafe && v <= kMaxSafe) return Napi::Number::New(env, static_cast<double>(v));
    return Napi::BigInt::New(env, v);
  }
  if (raw <= static_cast<uint64_t>(kMaxSafe)) return Napi::Number::New(env, static_cast<double>(raw));
  return Napi::BigInt::New(env, raw);
}

}  // namespace

Napi::Value ExportBtf(Napi::Env env, const ::btf* btf) {
  uint32_t n = btf__type_cnt(btf);
  Napi::Array out = Napi::Array::New(env, n > 0 ? n - 1 : 0);
  for (uint32_t id = 1; id < n; id++) {
    const btf_type* t = btf__type_by_id(btf, id);
    int kind = btf_kind(t);
    uint16_t vlen = btf_vlen(t);
    Napi::Object o = Napi::Object::New(env);
    o.Set("id", static_cast<double>(id));
    o.Set("kind", KindName(kind));
    const char* name = btf__name_by_offset(btf, t->name_off);
    o.Set("name", name != nullptr ? name : "");
    switch (kind) {
      case BTF_KIND_INT: {
        o.Set("size", static_cast<double>(t->size));
        uint32_t enc = btf_int_encoding(t);
        Napi::Object e = Napi::Object::New(env);
        e.Set("signed", (enc & BTF_INT_SIGNED) != 0);
        e.Set("char", (enc & BTF_INT_CHAR) != 0);
        e.Set("bool", (enc & BTF_INT_BOOL) != 0);
        e.Set("bitsOffset", static_cast<double>(btf_int_offset(t)));
        e.Set("bits", static_cast<double>(btf_int_bits(t)));
        o.Set("intEncoding", e);
        break;
      }
      case BTF_KIND_PTR:
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG:
        o.Set("type", static_cast<double>(t->type));
        break;
      case BTF_KIND_ARRAY: {
        const auto* a = btf_array(t);
        Napi::Object ao = Napi::Object::New(env);
        ao.Set("type", static_cast<double>(a->type));
        ao.Set("indexType", static_cast<double>(a->index_type));
        ao.Set("nelems", static_cast<double>(a->nelems));
        o.Set("array", ao);
        break;
      }
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION: {
        o.Set("size", static_cast<double>(t->size));
        const auto* m = btf_members(t);
        Napi::Array ms = Napi::Array::New(env, vlen);
        for (uint16_t i = 0; i < vlen; i++) {
          Napi::Object mo = Napi::Object::New(env);
          const char* mn = btf__name_by_offset(btf, m[i].name_off);
          mo.Set("name", mn != nullptr ? mn : "");
          mo.Set("type", static_cast<double>(m[i].type));
          mo.Set("bitsOffset", static_cast<double>(btf_member_bit_offset(t, i)));
          mo.Set("bitfieldSize", static_cast<double>(btf_member_bitfield_size(t, i)));
          ms.Set(i, mo);
        }
        o.Set("members", ms);
        break;
      }
      case BTF_KIND_ENUM: {
        o.Set("size", static_cast<double>(t->size));
        bool sig = btf_kflag(t);
        o.Set("signed", sig);
        const auto* e = btf_enum(t);
        Napi::Array vs = Napi::Array::New(env, vlen);
        for (uint16_t i = 0; i < vlen; i++) {
          Napi::Object vo = Napi::Object::New(env);
          const char* vn = btf__name_by_offset(btf, e[i].name_off);
          vo.Set("name", vn != nullptr ? vn : "");
          double v = sig ? static_cast<double>(e[i].val) : static_cast<double>(static_cast<uint32_t>(e[i].val));
          vo.Set("value", v);
          vs.Set(i, vo);
        }
        o.Set("values", vs);
        break;
      }
      case BTF_KIND_ENUM64: {
        o.Set("size", static_cast<double>(t->size));
        bool sig = btf_kflag(t);
        o.Set("signed", sig);
        const auto* e = btf_enum64(t);
        Napi::Array vs = Napi::Array::New(env, vlen);
        for (uint16_t i = 0; i < vlen; i++) {
          Napi::Object vo = Napi::Object::New(env);
          const char* vn = btf__name_by_offset(btf, e[i].name_off);
          vo.Set("name", vn != nullptr ? vn : "");
          vo.Set("value", Enum64Value(env, btf_enum64_value(&e[i]), sig));
          vs.Set(i, vo);
        }
        o.Set("values", vs);
        break;
      }
      case BTF_KIND_FWD:
        o.Set("fwdUnion", btf_kflag(t));
        break;
      case BTF_KIND_FUNC:
        o.Set("type", static_cast<double>(t->type));
        o.Set("linkage", static_cast<double>(vlen));
        break;
      case BTF_KIND_FUNC_PROTO: {
        o.Set("type", static_cast<double>(t->type));
        const auto* p = btf_params(t);
        Napi::Array ps = Napi::Array::New(env, vlen);
        for (uint16_t i = 0; i < vlen; i++) {
          Napi::Object po = Napi::Object::New(env);
          const char* pn = btf__name_by_offset(btf, p[i].name_off);
          po.Set("name", pn != nullptr ? pn : "");
          po.Set("type", static_cast<double>(p[i].type));
          ps.Set(i, po);
        }
        o.Set("params", ps);
        break;
      }
      case BTF_KIND_VAR:
        o.Set("type", static_cast<double>(t->type));
        o.Set("linkage", static_cast<double>(btf_var(t)->linkage));
        break;
      case BTF_KIND_DATASEC: {
        o.Set("size", static_cast<double>(t->size));
        const auto* v = btf_var_secinfos(t);
        Napi::Array vs = Napi::Array::New(env, vlen);
        for (uint16_t i = 0; i < vlen; i++) {
          Napi::Object vo = Napi::Object::New(env);
          vo.Set("type", static_cast<double>(v[i].type));
          vo.Set("offset", static_cast<double>(v[i].offset));
          vo.Set("size", static_cast<double>(v[i].size));
          vs.Set(i, vo);
        }
        o.Set("vars", vs);
        break;
      }
      case BTF_KIND_FLOAT:
        o.Set("size", static_cast<double>(t->size));
        break;
      case BTF_KIND_DECL_TAG:
        o.Set("type", static_cast<double>(t->type));
        o.Set("componentIdx", static_cast<double>(btf_decl_tag(t)->component_idx));
        break;
      default:
        break;
    }
    out.Set(id - 1, o);
  }
  return out;
}

namespace {

// writeVmlinuxBtfWith(outPath, struct): this kernel's BTF plus one struct, written as a raw BTF
// file. libbpf resolves CO-RE relocations against vmlinux only; a gadget whose
// preserve_access_index struct describes data the runtime writes (IG's gadget_socket_value)
// needs that struct among the targets (btf_custom_path). struct = { name, size, members: [{ name,
// offset (bytes), size (bytes), nelems? (char array) }] }: unsigned ints, or char arrays.
void WriteVmlinuxBtfWith(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string out = ArgString(info, 0, "outPath");
  if (info.Length() < 2 || !info[1].IsObject()) throw Napi::TypeError::New(env, "struct expected");
  Napi::Object st = info[1].As<Napi::Object>();
  struct btf* b = btf__load_vmlinux_btf();
  if (b == nullptr) ThrowError(env, "btf", "reading this kernel's BTF (/sys/kernel/btf/vmlinux)", errno);
  auto fail = [&](const std::string& what, int err) {
    btf__free(b);
    ThrowError(env, "btf", what, err < 0 ? -err : err);
  };
  int charT = btf__add_int(b, "char", 1, BTF_INT_CHAR);
  int u32T = btf__add_int(b, "unsigned int", 4, 0);
  Napi::Array members = st.Get("members").As<Napi::Array>();
  std::vector<int> types;
  for (uint32_t i = 0; i < members.Length(); i++) {
    Napi::Object m = members.Get(i).As<Napi::Object>();
    int64_t size = m.Get("size").As<Napi::Number>().Int64Value();
    Napi::Value ne = m.Get("nelems");
    int t;
    if (ne.IsNumber()) t = btf__add_array(b, u32T, charT, ne.As<Napi::Number>().Uint32Value());
    else t = btf__add_int(b, size == 8 ? "long long unsigned int" : size == 4 ? "unsigned int" : size == 2 ? "short unsigned int" : "unsigned char", size, 0);
    if (t < 0) fail("adding a member type", t);
    types.push_back(t);
  }
  std::string name = st.Get("name").As<Napi::String>().Utf8Value();
  if (btf__add_struct(b, name.c_str(), st.Get("size").As<Napi::Number>().Uint32Value()) < 0) fail("adding struct " + name, EINVAL);
  for (uint32_t i = 0; i < members.Length(); i++) {
    Napi::Object m = members.Get(i).As<Napi::Object>();
    std::string mn = m.Get("name").As<Napi::String>().Utf8Value();
    int e = btf__add_field(b, mn.c_str(), types[i], m.Get("offset").As<Napi::Number>().Uint32Value() * 8, 0);
    if (e < 0) fail("adding member " + mn, e);
  }
  uint32_t size = 0;
  const void* raw = btf__raw_data(b, &size);
  std::string tmp = out + ".tmp";
  FILE* f = fopen(tmp.c_str(), "wb");
  if (f == nullptr) fail("writing " + tmp, errno);
  bool ok = fwrite(raw, 1, size, f) == size;
  ok = fclose(f) == 0 && ok;
  if (!ok || rename(tmp.c_str(), out.c_str()) != 0) fail("writing " + out, errno);
  btf__free(b);
}

}  // namespace

Napi::Object InitBtf(Napi::Env env, Napi::Object exports) {
  exports.Set("writeVmlinuxBtfWith", Napi::Function::New(env, WriteVmlinuxBtfWith));
  return exports;
}

}  // namespace ig
