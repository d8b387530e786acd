// BTF export: every type of a struct btf as a plain JS object (see BtfType in index.d.ts).
#include "common.h"

#include <bpf/btf.h>

#include <charconv>
#include <cstdio>
#include <string>
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

// The types are written as JSON here and parsed by V8's JSON.parse: building the same objects
// through N-API (a call per property) took 4-15 ms for an object's ~600 types, JSON.parse ~1.5.
// The shape is BtfType's (index.d.ts); enum64 values beyond 2^53 become BigInts afterwards.
class JsonOut {
 public:
  std::string s;
  void Key(const char* k) {
    s += '"';
    s += k;
    s += "\":";
  }
  void Num(const char* k, double v) {
    Key(k);
    char buf[32];
    // BTF numbers are integers (enum values up to 2^53 too): exact digits, no printf
    auto r = std::to_chars(buf, buf + sizeof buf - 1, static_cast<int64_t>(v));
    *r.ptr++ = ',';
    s.append(buf, r.ptr);
  }
  void Bool(const char* k, bool v) {
    Key(k);
    s += v ? "true," : "false,";
  }
  void Str(const char* k, const char* v) {
    Key(k);
    s += '"';
    for (const char* c = v != nullptr ? v : ""; *c != '\0'; c++) {
      unsigned char u = static_cast<unsigned char>(*c);
      if (u == '"' || u == '\\') {
        s += '\\';
        s += static_cast<char>(u);
      } else if (u < 0x20) {
        char buf[8];
        snprintf(buf, sizeof buf, "\\u%04x", u);
        s += buf;
      } else {
        s += static_cast<char>(u);
      }
    }
    s += "\",";
  }
  void Open(const char* k, char bracket) {
    if (k != nullptr) Key(k);
    s += bracket;
  }
  // closes an object or array, dropping the comma after its last element
  void Close(char bracket) {
    if (s.back() == ',') s.pop_back();
    s += bracket;
    s += ',';
  }
};

// The types that globals, data sections and functions lead to, following every reference (pointers
// too: a marker such as `const struct event *__gadget_tracer_type_x` reaches its struct that way).
// What only CO-RE relocations name (task_struct and the kernel types its members pull in: ~460 of
// trace_open's 583 types) is left out: nothing the runtime reads starts there.
static std::vector<bool> ReachableTypes(const ::btf* btf) {
  uint32_t n = btf__type_cnt(btf);
  std::vector<bool> seen(n, false);
  std::vector<uint32_t> todo;
  for (uint32_t id = 1; id < n; id++) {
    int kind = btf_kind(btf__type_by_id(btf, id));
    if (kind == BTF_KIND_VAR || kind == BTF_KIND_DATASEC || kind == BTF_KIND_FUNC) todo.push_back(id);
  }
  auto visit = [&](uint32_t id) {
    if (id != 0 && id < n && !seen[id]) todo.push_back(id);
  };
  while (!todo.empty()) {
    uint32_t id = todo.back();
    todo.pop_back();
    if (seen[id]) continue;
    seen[id] = true;
    const btf_type* t = btf__type_by_id(btf, id);
    uint16_t vlen = btf_vlen(t);
    switch (btf_kind(t)) {
      case BTF_KIND_PTR: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG: case BTF_KIND_FUNC: case BTF_KIND_VAR: case BTF_KIND_DECL_TAG:
        visit(t->type);
        break;
      case BTF_KIND_ARRAY:
        visit(btf_array(t)->type);
        visit(btf_array(t)->index_type);
        break;
      case BTF_KIND_STRUCT: case BTF_KIND_UNION:
        for (uint16_t i = 0; i < vlen; i++) visit(btf_members(t)[i].type);
        break;
      case BTF_KIND_FUNC_PROTO:
        visit(t->type);
        for (uint16_t i = 0; i < vlen; i++) visit(btf_params(t)[i].type);
        break;
      case BTF_KIND_DATASEC:
        for (uint16_t i = 0; i < vlen; i++) visit(btf_var_secinfos(t)[i].type);
        break;
      default:
        break;
    }
  }
  return seen;
}

Napi::Value ExportBtf(Napi::Env env, const ::btf* btf, bool reachableOnly) {
  uint32_t n = btf__type_cnt(btf);
  std::vector<bool> wanted = reachableOnly ? ReachableTypes(btf) : std::vector<bool>(n, true);
  JsonOut j;
  j.s.reserve(static_cast<size_t>(n) * 160);
  // [type index, value index, raw value, signed] of enum64 values JSON cannot carry exactly
  struct Big { uint32_t type, value; uint64_t raw; bool sig; };
  std::vector<Big> bigs;
  auto str = [&](uint32_t off) { return btf__name_by_offset(btf, off); };
  j.s += '[';
  uint32_t index = 0;  // of the type in the array written
  for (uint32_t id = 1; id < n; id++) {
    if (!wanted[id]) continue;
    const btf_type* t = btf__type_by_id(btf, id);
    int kind = btf_kind(t);
    uint16_t vlen = btf_vlen(t);
    index++;
    j.Open(nullptr, '{');
    j.Num("id", id);
    j.Str("kind", KindName(kind));
    j.Str("name", str(t->name_off));
    switch (kind) {
      case BTF_KIND_INT: {
        j.Num("size", t->size);
        uint32_t enc = btf_int_encoding(t);
        j.Open("intEncoding", '{');
        j.Bool("signed", (enc & BTF_INT_SIGNED) != 0);
        j.Bool("char", (enc & BTF_INT_CHAR) != 0);
        j.Bool("bool", (enc & BTF_INT_BOOL) != 0);
        j.Num("bitsOffset", btf_int_offset(t));
        j.Num("bits", btf_int_bits(t));
        j.Close('}');
        break;
      }
      case BTF_KIND_PTR:
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG:
        j.Num("type", t->type);
        break;
      case BTF_KIND_ARRAY: {
        const auto* a = btf_array(t);
        j.Open("array", '{');
        j.Num("type", a->type);
        j.Num("indexType", a->index_type);
        j.Num("nelems", a->nelems);
        j.Close('}');
        break;
      }
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION: {
        j.Num("size", t->size);
        const auto* m = btf_members(t);
        j.Open("members", '[');
        for (uint16_t i = 0; i < vlen; i++) {
          j.Open(nullptr, '{');
          j.Str("name", str(m[i].name_off));
          j.Num("type", m[i].type);
          j.Num("bitsOffset", btf_member_bit_offset(t, i));
          j.Num("bitfieldSize", btf_member_bitfield_size(t, i));
          j.Close('}');
        }
        j.Close(']');
        break;
      }
      case BTF_KIND_ENUM: {
        j.Num("size", t->size);
        bool sig = btf_kflag(t);
        j.Bool("signed", sig);
        const auto* e = btf_enum(t);
        j.Open("values", '[');
        for (uint16_t i = 0; i < vlen; i++) {
          j.Open(nullptr, '{');
          j.Str("name", str(e[i].name_off));
          j.Num("value", sig ? static_cast<double>(e[i].val) : static_cast<double>(static_cast<uint32_t>(e[i].val)));
          j.Close('}');
        }
        j.Close(']');
        break;
      }
      case BTF_KIND_ENUM64: {
        j.Num("size", t->size);
        bool sig = btf_kflag(t);
        j.Bool("signed", sig);
        const auto* e = btf_enum64(t);
        j.Open("values", '[');
        for (uint16_t i = 0; i < vlen; i++) {
          uint64_t raw = btf_enum64_value(&e[i]);
          j.Open(nullptr, '{');
          j.Str("name", str(e[i].name_off));
          int64_t sv = static_cast<int64_t>(raw);
          bool exact = sig ? (sv >= -kMaxSafe && sv <= kMaxSafe) : raw <= static_cast<uint64_t>(kMaxSafe);
          if (exact) j.Num("value", sig ? static_cast<double>(sv) : static_cast<double>(raw));
          else {
            j.Num("value", 0);
            bigs.push_back({index - 1, i, raw, sig});
          }
          j.Close('}');
        }
        j.Close(']');
        break;
      }
      case BTF_KIND_FWD:
        j.Bool("fwdUnion", btf_kflag(t));
        break;
      case BTF_KIND_FUNC:
        j.Num("type", t->type);
        j.Num("linkage", vlen);
        break;
      case BTF_KIND_FUNC_PROTO: {
        j.Num("type", t->type);
        const auto* p = btf_params(t);
        j.Open("params", '[');
        for (uint16_t i = 0; i < vlen; i++) {
          j.Open(nullptr, '{');
          j.Str("name", str(p[i].name_off));
          j.Num("type", p[i].type);
          j.Close('}');
        }
        j.Close(']');
        break;
      }
      case BTF_KIND_VAR:
        j.Num("type", t->type);
        j.Num("linkage", btf_var(t)->linkage);
        break;
      case BTF_KIND_DATASEC: {
        j.Num("size", t->size);
        const auto* v = btf_var_secinfos(t);
        j.Open("vars", '[');
        for (uint16_t i = 0; i < vlen; i++) {
          j.Open(nullptr, '{');
          j.Num("type", v[i].type);
          j.Num("offset", v[i].offset);
          j.Num("size", v[i].size);
          j.Close('}');
        }
        j.Close(']');
        break;
      }
      case BTF_KIND_FLOAT:
        j.Num("size", t->size);
        break;
      case BTF_KIND_DECL_TAG:
        j.Num("type", t->type);
        j.Num("componentIdx", btf_decl_tag(t)->component_idx);
        break;
      default:
        break;
    }
    j.Close('}');
  }
  if (j.s.back() == ',') j.s.pop_back();
  j.s += ']';
  Napi::Object json = env.Global().Get("JSON").As<Napi::Object>();
  Napi::Array out = json.Get("parse").As<Napi::Function>().Call(json, {Napi::String::New(env, j.s)}).As<Napi::Array>();
  for (const Big& b : bigs) {
    Napi::Object v = out.Get(b.type).As<Napi::Object>().Get("values").As<Napi::Array>().Get(b.value).As<Napi::Object>();
    v.Set("value", Enum64Value(env, b.raw, b.sig));
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
