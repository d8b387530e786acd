// Packet filters injected into classifiers, as IG does (GADGET_PF, gadget/packetfilter.h): the
// runtime compiles the user's pcap filter to eBPF (src/runtime/packet-filter/) and the code is
// spliced in front of the gadget_pf_<name> subprogram's body right before the program is loaded,
// when libbpf has linked the subprograms in (a prog_prepare_load_fn of a "classifier/" handler).
// Jumps and calls across the splice, and the BTF func/line info after it, move with the code.
#include "common.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

namespace ig {

namespace {
struct Patch {
  const bpf_object* obj;
  uint32_t funcTypeId;
  std::vector<bpf_insn> code;
  // copies handed to the kernel through the load options; alive until the object is loaded
  std::vector<uint8_t> funcInfo, lineInfo;
};
std::map<const bpf_program*, Patch> g_patches;

bool IsJump(const bpf_insn& in) {
  uint8_t cls = BPF_CLASS(in.code), op = BPF_OP(in.code);
  return (cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL && op != BPF_EXIT;
}
bool IsPseudoCall(const bpf_insn& in) {
  return in.code == (BPF_JMP | BPF_CALL) && in.src_reg == BPF_PSEUDO_CALL;
}
bool IsPseudoFunc(const bpf_insn& in) {
  return in.code == (BPF_LD | BPF_IMM | BPF_DW) && in.src_reg == BPF_PSEUDO_FUNC;
}

// where the old instruction index `t` is after inserting n instructions at s (a target at s, the
// subprogram's entry, is the injected code's first instruction)
int64_t Moved(int64_t t, int64_t s, int64_t n) { return t <= s ? t : t + n; }

std::vector<uint8_t> ShiftInfo(const void* info, uint32_t recSize, uint32_t cnt, uint32_t s, uint32_t n) {
  std::vector<uint8_t> out(static_cast<const uint8_t*>(info), static_cast<const uint8_t*>(info) + size_t(recSize) * cnt);
  for (uint32_t i = 0; i < cnt; i++) {
    uint32_t off;
    memcpy(&off, &out[size_t(i) * recSize], 4);  // insn_off is the first member of func and line info
    if (off > s) off += n;
    memcpy(&out[size_t(i) * recSize], &off, 4);
  }
  return out;
}

int Prepare(bpf_program* prog, bpf_prog_load_opts* opts, long cookie) {
  auto it = g_patches.find(prog);
  if (it == g_patches.end()) return 0;
  Patch& p = it->second;
  if (opts->func_info == nullptr || opts->func_info_rec_size < 8) return -ENOENT;
  const uint8_t* fi = static_cast<const uint8_t*>(opts->func_info);
  int64_t s = -1;
  for (uint32_t i = 0; i < opts->func_info_cnt; i++) {
    uint32_t off, type;
    memcpy(&off, fi + size_t(i) * opts->func_info_rec_size, 4);
    memcpy(&type, fi + size_t(i) * opts->func_info_rec_size + 4, 4);
    if (type == p.funcTypeId) s = off;
  }
  if (s < 0) return 0;  // this program does not call the filter function
  const bpf_insn* old = bpf_program__insns(prog);
  size_t cnt = bpf_program__insn_cnt(prog), n = p.code.size();
  std::vector<bpf_insn> out;
  out.reserve(cnt + n);
  out.insert(out.end(), old, old + s);
  out.insert(out.end(), p.code.begin(), p.code.end());
  out.insert(out.end(), old + s, old + cnt);
  for (size_t i = 0; i < cnt; i++) {
    const bpf_insn& in = old[i];
    bpf_insn& o = out[Moved(i, s, n) + (int64_t(i) == s ? int64_t(n) : 0)];
    int64_t ni = &o - out.data();
    bool ja32 = BPF_CLASS(in.code) == BPF_JMP32 && BPF_OP(in.code) == BPF_JA;
    if (IsPseudoCall(in) || IsPseudoFunc(in) || ja32) {
      int64_t t = int64_t(i) + 1 + in.imm;
      o.imm = static_cast<int32_t>(Moved(t, s, n) - (ni + 1));
    } else if (IsJump(in)) {
      int64_t t = int64_t(i) + 1 + in.off;
      int64_t off = Moved(t, s, n) - (ni + 1);
      if (off < INT16_MIN || off > INT16_MAX) return -E2BIG;
      o.off = static_cast<int16_t>(off);
    }
    if (in.code == (BPF_LD | BPF_IMM | BPF_DW)) i++;  // the second half of a 64-bit load is data
  }
  p.funcInfo = ShiftInfo(opts->func_info, opts->func_info_rec_size, opts->func_info_cnt, s, n);
  opts->func_info = p.funcInfo.data();
  if (opts->line_info != nullptr) {
    p.lineInfo = ShiftInfo(opts->line_info, opts->line_info_rec_size, opts->line_info_cnt, s, n);
    opts->line_info = p.lineInfo.data();
  }
  return bpf_program__set_insns(prog, out.data(), out.size());
}
}  // namespace

void RegisterPacketFilterHandler() {
  LIBBPF_OPTS(libbpf_prog_handler_opts, o, .prog_prepare_load_fn = Prepare);
  // the same type and (no) expected attach type as libbpf's own "classifier" section
  libbpf_register_prog_handler("classifier/", BPF_PROG_TYPE_SCHED_CLS, static_cast<bpf_attach_type>(0), &o);
}

int SetPacketFilter(const bpf_object* obj, const bpf_program* prog, const std::string& func, const uint8_t* code, size_t len) {
  const btf* b = bpf_object__btf(obj);
  if (b == nullptr) return -ENOENT;
  int id = btf__find_by_name_kind(b, func.c_str(), BTF_KIND_FUNC);
  if (id < 0) return -ENOENT;
  Patch p{obj, static_cast<uint32_t>(id), {}, {}, {}};
  p.code.resize(len / sizeof(bpf_insn));
  memcpy(p.code.data(), code, p.code.size() * sizeof(bpf_insn));
  g_patches[prog] = std::move(p);
  return 0;
}

void ClearPacketFilters(const bpf_object* obj) {
  for (auto it = g_patches.begin(); it != g_patches.end();) {
    if (it->second.obj == obj) it = g_patches.erase(it);
    else ++it;
  }
}

}  // namespace ig
