// Module init, error helpers and the libbpf print hook.
#include "common.h"
#include "kernel_features.h"

#include <climits>
#include <ctime>

#include <sys/socket.h>

#include <bpf/libbpf.h>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace ig {

namespace {
thread_local std::string* g_capture = nullptr;
bool g_debug = false;

int PrintFn(enum libbpf_print_level level, const char* fmt, va_list args) {
  (void)level;
  if (g_capture == nullptr && !g_debug) return 0;
  std::string text;
  va_list copy;
  va_copy(copy, args);
  char small[512];
  int n = vsnprintf(small, sizeof small, fmt, copy);
  va_end(copy);
  if (n < 0) return 0;
  if (static_cast<size_t>(n) < sizeof small) {
    text.assign(small, n);
  } else {
    text.resize(n + 1);
    vsnprintf(&text[0], text.size(), fmt, args);
    text.resize(n);
  }
  if (g_capture != nullptr) g_capture->append(text);
  if (g_debug) fputs(text.c_str(), stderr);
  return n;
}
}  // namespace

LogCapture::LogCapture() : prev_(g_capture) { g_capture = &text_; }
LogCapture::~LogCapture() { g_capture = prev_; }

void InstallLibbpfPrint() {
  const char* d = getenv("IG_LIBBPF_DEBUG");
  g_debug = d != nullptr && *d != '\0' && strcmp(d, "0") != 0;
  libbpf_set_print(PrintFn);
}

void ThrowError(Napi::Env env, const std::string& op, const std::string& msg, int err, const std::string* log) {
  if (err < 0) err = -err;
  std::string full = msg;
  if (err != 0) {
    char buf[128];
    libbpf_strerror(err, buf, sizeof buf);
    full += ": ";
    full += buf;
  }
  Napi::Error e = Napi::Error::New(env, full);
  if (err != 0) e.Set("errno", Napi::Number::New(env, err));
  e.Set("op", Napi::String::New(env, op));
  if (log != nullptr) e.Set("log", Napi::String::New(env, *log));
  throw e;
}

std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsString())
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

Napi::Buffer<uint8_t> ArgBuffer(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsBuffer())
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a Buffer");
  return info[i].As<Napi::Buffer<uint8_t>>();
}

int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  return info[i].As<Napi::Number>().Int64Value();
}

}  // namespace ig

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ig::InstallLibbpfPrint();
  ig::InitObject(env, exports);
  ig::InitConsumer(env, exports);
  ig::InitMaps(env, exports);
  ig::InitLinks(env, exports);
  ig::InitBtf(env, exports);
  ig::InitCoreBtf(env, exports);
  ig::InitEmbedded(env, exports);
  ig::InitWasmHost(env, exports);
  ig::InitPcap(env, exports);
  ig::InitMemory(env, exports);
  ig::RegisterPacketFilterHandler();
  exports.Set("libbpfVersion", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::String::New(info.Env(), libbpf_version_string());
  }, "libbpfVersion"));
  // libbpf's kernel feature probes, kept per boot by src/runtime/kernel-features-cache.ts (kernel_features.c)
  exports.Set("kernelFeatures", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    auto out = Napi::Buffer<uint8_t>::New(info.Env(), ig_kernel_features_count());
    ig_kernel_features_get(out.Data(), out.Length());
    return out;
  }, "kernelFeatures"));
  exports.Set("presetKernelFeatures", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    Napi::Buffer<uint8_t> in = ig::ArgBuffer(info, 0, "features");
    ig_kernel_features_set_supported(in.Data(), in.Length());
    return info.Env().Undefined();
  }, "presetKernelFeatures"));
  // Wall-clock minus boot-clock, in ns: eBPF timestamps (bpf_ktime_get_boot_ns) plus this are
  // wall-clock times. Both clocks are read back to back; the tightest of a few pairs wins.
  exports.Set("bootToWallOffsetNs", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    int64_t best = 0, bestGap = INT64_MAX;
    for (int i = 0; i < 5; i++) {
      timespec b1{}, w{}, b2{};
      clock_gettime(CLOCK_BOOTTIME, &b1);
      clock_gettime(CLOCK_REALTIME, &w);
      clock_gettime(CLOCK_BOOTTIME, &b2);
      auto ns = [](const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec; };
      int64_t gap = ns(b2) - ns(b1);
      if (gap < bestGap) { bestGap = gap; best = ns(w) - (ns(b1) + gap / 2); }
    }
    return Napi::BigInt::New(info.Env(), best);
  }, "bootToWallOffsetNs"));
  // Who is at the other end of a connected unix socket (SO_PEERCRED): the kernel's record of the
  // peer's pid, uid and gid when it connected. The daemon identifies local clients by it.
  exports.Set("peerCredentials", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    int fd = static_cast<int>(ig::ArgInt(info, 0, "fd"));
    struct ucred cred {};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) ig::ThrowError(info.Env(), "getsockopt", "SO_PEERCRED", errno, nullptr);
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("pid", static_cast<double>(cred.pid));
    o.Set("uid", static_cast<double>(cred.uid));
    o.Set("gid", static_cast<double>(cred.gid));
    return o;
  }, "peerCredentials"));
  return exports;
}

NODE_API_MODULE(ig_native, Init)
