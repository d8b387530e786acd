// Shared helpers of the ig native addon: error construction and libbpf log capture.
#pragma once
#include <napi.h>
#include <string>
#include <cerrno>
#include <cstring>

struct btf;
struct bpf_object;
struct bpf_program;

namespace ig {

// Throw a JS Error with `.errno` (positive; omitted when 0), `.op` and, if given, `.log`.
// The message is "<msg>: <strerror>" when errno is known.
[[noreturn]] void ThrowError(Napi::Env env, const std::string& op, const std::string& msg, int err,
                             const std::string* log = nullptr);

// Capture libbpf's print output (all levels) into a string for the lifetime of this
// object, on the calling thread. Outside a capture libbpf is silent unless the
// environment variable IG_LIBBPF_DEBUG is set (then it goes to stderr).
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  const std::string& text() const { return text_; }
 private:
  std::string text_;
  std::string* prev_;
};

void InstallLibbpfPrint();

// Helpers for reading arguments.
std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* what);
Napi::Buffer<uint8_t> ArgBuffer(const Napi::CallbackInfo& info, size_t i, const char* what);
int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* what);

Napi::Object InitObject(Napi::Env env, Napi::Object exports);
Napi::Object InitConsumer(Napi::Env env, Napi::Object exports);
Napi::Object InitMaps(Napi::Env env, Napi::Object exports);
Napi::Object InitLinks(Napi::Env env, Napi::Object exports);
Napi::Object InitBtf(Napi::Env env, Napi::Object exports);
Napi::Object InitCoreBtf(Napi::Env env, Napi::Object exports);
Napi::Object InitEmbedded(Napi::Env env, Napi::Object exports);
Napi::Object InitWasmHost(Napi::Env env, Napi::Object exports);
void InitPcap(Napi::Env env, Napi::Object exports);
void InitMemory(Napi::Env env, Napi::Object exports);
// packet_filter.cc: pcap filters spliced into classifiers' gadget_pf_<name> subprograms at load
void RegisterPacketFilterHandler();
int SetPacketFilter(const bpf_object* obj, const bpf_program* prog, const std::string& func, const uint8_t* code, size_t len);
void ClearPacketFilters(const bpf_object* obj);
// reachableOnly: only the types a global variable, a data section or a function reaches (ids kept)
Napi::Value ExportBtf(Napi::Env env, const ::btf* btf, bool reachableOnly = false);

}  // namespace ig
