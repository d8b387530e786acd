// eBPF objects of the runtime itself, compiled by the Makefile (native/bpf/*.bpf.c) and embedded
// in the addon, so the single executable and the agent image carry them with no extra file.
#include "common.h"

asm(".section .rodata\n"
    ".balign 8\n"
    "ig_socket_enricher_start:\n"
    ".incbin \"build/socket_enricher.bpf.o\"\n"
    "ig_socket_enricher_end:\n"
    ".previous\n");

extern "C" const uint8_t ig_socket_enricher_start[];
extern "C" const uint8_t ig_socket_enricher_end[];

namespace ig {

Napi::Object InitEmbedded(Napi::Env env, Napi::Object exports) {
  exports.Set("socketEnricherObject", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Buffer<uint8_t>::Copy(info.Env(), ig_socket_enricher_start, ig_socket_enricher_end - ig_socket_enricher_start);
  }, "socketEnricherObject"));
  return exports;
}

}  // namespace ig
