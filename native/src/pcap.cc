// pcapCompile(expr, snaplen, linktype) -> Buffer of classic BPF instructions (8 bytes each:
// u16 code, u8 jt, u8 jf, u32 k, host order), compiled by libpcap's pcap_compile. libpcap is
// opened with dlopen on first use, so the addon does not need it unless a packet filter is given.
#include "common.h"

#include <dlfcn.h>

#include <cstdint>
#include <string>

namespace ig {

namespace {
// libpcap's public ABI (pcap/pcap.h, pcap/bpf.h), stable since 0.8.
struct CbpfInsn { uint16_t code; uint8_t jt; uint8_t jf; uint32_t k; };
struct CbpfProgram { unsigned int len; CbpfInsn* insns; };
using OpenDeadFn = void* (*)(int, int);
using CompileFn = int (*)(void*, CbpfProgram*, const char*, int, uint32_t);
using GetErrFn = char* (*)(void*);
using FreeCodeFn = void (*)(CbpfProgram*);
using CloseFn = void (*)(void*);

struct Libpcap {
  OpenDeadFn openDead = nullptr;
  CompileFn compile = nullptr;
  GetErrFn getErr = nullptr;
  FreeCodeFn freeCode = nullptr;
  CloseFn close = nullptr;
  std::string error;
};

const Libpcap& Lib() {
  static Libpcap lib = [] {
    Libpcap l;
    void* h = dlopen("libpcap.so.0.8", RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) h = dlopen("libpcap.so.1", RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) h = dlopen("libpcap.so", RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
      const char* e = dlerror();
      l.error = e != nullptr ? e : "libpcap.so.0.8 not found";
      return l;
    }
    l.openDead = reinterpret_cast<OpenDeadFn>(dlsym(h, "pcap_open_dead"));
    l.compile = reinterpret_cast<CompileFn>(dlsym(h, "pcap_compile"));
    l.getErr = reinterpret_cast<GetErrFn>(dlsym(h, "pcap_geterr"));
    l.freeCode = reinterpret_cast<FreeCodeFn>(dlsym(h, "pcap_freecode"));
    l.close = reinterpret_cast<CloseFn>(dlsym(h, "pcap_close"));
    if (!l.openDead || !l.compile || !l.getErr || !l.freeCode || !l.close) l.error = "libpcap lacks pcap_compile";
    return l;
  }();
  return lib;
}

constexpr uint32_t kNetmaskUnknown = 0xffffffff;  // PCAP_NETMASK_UNKNOWN

Napi::Value PcapCompile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string expr = info[0].As<Napi::String>().Utf8Value();
  int snaplen = info[1].As<Napi::Number>().Int32Value();
  int linktype = info[2].As<Napi::Number>().Int32Value();
  const Libpcap& lib = Lib();
  if (!lib.error.empty()) {
    Napi::Error e = Napi::Error::New(env, "loading libpcap: " + lib.error);
    e.Set("op", Napi::String::New(env, "pcapCompile"));
    e.Set("code", Napi::String::New(env, "ENOLIBPCAP"));
    throw e;
  }
  void* p = lib.openDead(linktype, snaplen);
  if (p == nullptr) {
    Napi::Error e = Napi::Error::New(env, "pcap_open_dead failed");
    e.Set("op", Napi::String::New(env, "pcapCompile"));
    throw e;
  }
  CbpfProgram prog{0, nullptr};
  if (lib.compile(p, &prog, expr.c_str(), 1, kNetmaskUnknown) != 0) {
    std::string msg = lib.getErr(p);
    lib.close(p);
    Napi::Error e = Napi::Error::New(env, msg);
    e.Set("op", Napi::String::New(env, "pcapCompile"));
    e.Set("code", Napi::String::New(env, "EPCAPSYNTAX"));
    throw e;
  }
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<uint8_t*>(prog.insns), prog.len * sizeof(CbpfInsn));
  lib.freeCode(&prog);
  lib.close(p);
  return out;
}
}  // namespace

void InitPcap(Napi::Env env, Napi::Object exports) {
  exports.Set("pcapCompile", Napi::Function::New<PcapCompile>(env, "pcapCompile"));
}

}  // namespace ig
