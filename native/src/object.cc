// BpfObject: one eBPF ELF object opened with libbpf. Open/inspect, tweak before load,
// load (capturing libbpf + verifier output), attach, read iterators, close.
#include "common.h"
#include "preset_attach.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <csignal>
#include <pthread.h>
#include <sched.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <linux/perf_event.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>
#include <vector>

namespace ig {

namespace {

struct Link {
  bpf_link* link = nullptr;
  int sockFd = -1;
  bool used() const { return link != nullptr || sockFd >= 0; }
  void release() {
    if (link != nullptr) bpf_link__destroy(link);
    if (sockFd >= 0) close(sockFd);
    link = nullptr;
    sockFd = -1;
  }
};

class BpfObject : public Napi::ObjectWrap<BpfObject> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "BpfObject", {
      InstanceMethod<&BpfObject::Maps>("maps"),
      InstanceMethod<&BpfObject::Programs>("programs"),
      InstanceMethod<&BpfObject::Btf>("btf"),
      InstanceMethod<&BpfObject::MapInitialValue>("mapInitialValue"),
      InstanceMethod<&BpfObject::SetMapInitialValue>("setMapInitialValue"),
      InstanceMethod<&BpfObject::SetMapType>("setMapType"),
      InstanceMethod<&BpfObject::SetMapValueSize>("setMapValueSize"),
      InstanceMethod<&BpfObject::SetMapKeySize>("setMapKeySize"),
      InstanceMethod<&BpfObject::SetMapMaxEntries>("setMapMaxEntries"),
      InstanceMethod<&BpfObject::SetProgramAutoload>("setProgramAutoload"),
      InstanceMethod<&BpfObject::SetProgramType>("setProgramType"),
      InstanceMethod<&BpfObject::ProgramInsns>("programInsns"),
      InstanceMethod<&BpfObject::SetPacketFilter>("setPacketFilter"),
      InstanceMethod<&BpfObject::ReuseMapFd>("reuseMapFd"),
      InstanceMethod<&BpfObject::Load>("load"),
      InstanceMethod<&BpfObject::MapFd>("mapFd"),
      InstanceMethod<&BpfObject::ProgramFd>("programFd"),
      InstanceMethod<&BpfObject::ProgramId>("programId"),
      InstanceMethod<&BpfObject::ProgramDoesNothing>("programDoesNothing"),
      InstanceMethod<&BpfObject::MapId>("mapId"),
      InstanceMethod<&BpfObject::Attach>("attach"),
      InstanceMethod<&BpfObject::AttachPerfEvent>("attachPerfEvent"),
      InstanceMethod<&BpfObject::Detach>("detach"),
      InstanceMethod<&BpfObject::ReadIter>("readIter"),
      InstanceMethod<&BpfObject::Close>("close"),
    });
  }

  BpfObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfObject>(info) {
    Napi::Env env = info.Env();
    Napi::Buffer<uint8_t> elf = ArgBuffer(info, 0, "elf");
    name_ = ArgString(info, 1, "name");
    // libbpf keeps pointing into the buffer until load; own a copy.
    elf_.assign(elf.Data(), elf.Data() + elf.Length());
    // a third argument { btfCustomPath } or { btfCustom: bytes }: CO-RE relocation targets other
    // than this kernel's BTF. libbpf reads them at load, from a path: bytes go into a memfd, so
    // what it reads is exactly what the caller checked.
    if (info.Length() > 2 && info[2].IsObject()) {
      Napi::Object o = info[2].As<Napi::Object>();
      Napi::Value p = o.Get("btfCustomPath");
      Napi::Value b = o.Get("btfCustom");
      if (p.IsString()) btfPath_ = p.As<Napi::String>().Utf8Value();
      if (b.IsBuffer()) {
        Napi::Buffer<uint8_t> bytes = b.As<Napi::Buffer<uint8_t>>();
        btfFd_ = static_cast<int>(syscall(SYS_memfd_create, "ig-core-btf", MFD_CLOEXEC));
        if (btfFd_ < 0 || write(btfFd_, bytes.Data(), bytes.Length()) != static_cast<ssize_t>(bytes.Length())) {
          int err = errno;
          CloseBtfFd();
          ThrowError(env, "open", "keeping the CO-RE BTF in memory", err);
        }
        btfPath_ = "/proc/self/fd/" + std::to_string(btfFd_);
      }
      // { attachBtfIds: { "iter/task": id } }: iterators' attach BTF ids, given to libbpf at load
      Napi::Value ids = o.Get("attachBtfIds");
      if (ids.IsObject()) {
        Napi::Object m = ids.As<Napi::Object>();
        Napi::Array keys = m.GetPropertyNames();
        for (uint32_t i = 0; i < keys.Length(); i++) {
          std::string sec = keys.Get(i).As<Napi::String>().Utf8Value();
          Napi::Value v = m.Get(sec);
          if (v.IsNumber()) attachIds_.emplace_back(sec, v.As<Napi::Number>().Uint32Value());
        }
      }
    }
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name_.c_str(),
                .btf_custom_path = btfPath_.empty() ? nullptr : btfPath_.c_str());
    LogCapture cap;
    obj_ = bpf_object__open_mem(elf_.data(), elf_.size(), &opts);
    if (obj_ == nullptr) {
      int err = errno;
      CloseBtfFd();
      ThrowError(env, "open", "opening eBPF object " + name_, err, &cap.text());
    }
  }

  ~BpfObject() override { Release(); }

 private:
  bpf_object* obj_ = nullptr;
  std::vector<uint8_t> elf_;
  std::string name_;
  std::string btfPath_;
  int btfFd_ = -1;  // the memfd behind btfPath_ when the CO-RE BTF was given as bytes
  void CloseBtfFd() {
    if (btfFd_ >= 0) close(btfFd_);
    btfFd_ = -1;
  }
  std::vector<std::pair<std::string, uint32_t>> attachIds_;
  bool loaded_ = false;
  std::vector<Link> links_;

  void Release() {
    // Each tracepoint link waits for an RCU grace period when released (~70 ms here);
    // releasing them from parallel threads overlaps those waits, so closing a gadget with
    // six tracepoints takes one grace period instead of six.
    std::vector<std::thread> workers;
    for (auto& l : links_) {
      if (!l.used()) continue;
      workers.emplace_back([link = l]() mutable { link.release(); });
    }
    for (auto& w : workers) w.join();
    links_.clear();
    if (obj_ != nullptr) ig::ClearPacketFilters(obj_);
    if (obj_ != nullptr) bpf_object__close(obj_);
    obj_ = nullptr;
    CloseBtfFd();
    std::vector<uint8_t>().swap(elf_);
  }

  bpf_object* Obj(Napi::Env env) {
    if (obj_ == nullptr) ThrowError(env, "closed", "eBPF object " + name_ + " is closed", 0);
    return obj_;
  }
  void NeedLoaded(Napi::Env env, bool want) {
    Obj(env);
    if (loaded_ != want)
      ThrowError(env, want ? "not-loaded" : "loaded",
                 "eBPF object " + name_ + (want ? " is not loaded yet" : " is already loaded"), 0);
  }

  bpf_map* FindMap(const Napi::CallbackInfo& info, size_t i = 0) {
    std::string n = ArgString(info, i, "map");
    bpf_map* m = bpf_object__find_map_by_name(Obj(info.Env()), n.c_str());
    if (m == nullptr) ThrowError(info.Env(), "map", "no map named " + n + " in " + name_, ENOENT);
    return m;
  }
  bpf_program* FindProg(const Napi::CallbackInfo& info, size_t i = 0) {
    std::string n = ArgString(info, i, "prog");
    bpf_program* p = bpf_object__find_program_by_name(Obj(info.Env()), n.c_str());
    if (p == nullptr) ThrowError(info.Env(), "program", "no program named " + n + " in " + name_, ENOENT);
    return p;
  }

  // Internal maps are named "<obj>.rodata" in the kernel; report the section name
  // (".rodata", ".data.custom"), which is also what find_map_by_name accepts.
  std::string MapName(bpf_map* m) {
    const char* kname = bpf_map__name(m);
    if (!bpf_map__is_internal(m)) return kname;
    const struct btf* b = bpf_object__btf(obj_);
    uint32_t vt = bpf_map__btf_value_type_id(m);
    if (b != nullptr && vt != 0) {
      const btf_type* t = btf__type_by_id(b, vt);
      if (t != nullptr && btf_is_datasec(t)) {
        const char* sec = btf__name_by_offset(b, t->name_off);
        if (sec != nullptr && bpf_object__find_map_by_name(obj_, sec) == m) return sec;
      }
    }
    const char* dot = strchr(kname, '.');
    if (dot != nullptr && bpf_object__find_map_by_name(obj_, dot) == m) return dot;
    return kname;
  }

  Napi::Value Maps(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env);
    bpf_map* m;
    uint32_t i = 0;
    bpf_object__for_each_map(m, Obj(env)) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", MapName(m));
      o.Set("type", static_cast<double>(bpf_map__type(m)));
      o.Set("keySize", static_cast<double>(bpf_map__key_size(m)));
      o.Set("valueSize", static_cast<double>(bpf_map__value_size(m)));
      o.Set("maxEntries", static_cast<double>(bpf_map__max_entries(m)));
      o.Set("btfKeyTypeId", static_cast<double>(bpf_map__btf_key_type_id(m)));
      o.Set("btfValueTypeId", static_cast<double>(bpf_map__btf_value_type_id(m)));
      o.Set("internal", bpf_map__is_internal(m));
      const char* pin = bpf_map__pin_path(m);
      if (pin != nullptr) o.Set("pinPath", pin);
      out.Set(i++, o);
    }
    return out;
  }

  Napi::Value Programs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env);
    bpf_program* p;
    uint32_t i = 0;
    bpf_object__for_each_program(p, Obj(env)) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", bpf_program__name(p));
      o.Set("section", bpf_program__section_name(p));
      o.Set("type", static_cast<double>(bpf_program__type(p)));
      o.Set("expectedAttachType", static_cast<double>(bpf_program__expected_attach_type(p)));
      out.Set(i++, o);
    }
    return out;
  }

  Napi::Value Btf(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    struct btf* b = bpf_object__btf(Obj(env));
    if (b == nullptr) ThrowError(env, "btf", "eBPF object " + name_ + " has no BTF", ENOENT);
    return ExportBtf(env, b, info.Length() > 0 && info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value());
  }

  Napi::Value MapInitialValue(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bpf_map* m = FindMap(info);
    size_t size = 0;
    void* data = bpf_map__initial_value(m, &size);
    if (data == nullptr)
      ThrowError(env, "map", std::string("map ") + bpf_map__name(m) + " has no initial value", EINVAL);
    return Napi::Buffer<uint8_t>::Copy(env, static_cast<uint8_t*>(data), size);
  }

  void SetMapInitialValue(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    NeedLoaded(env, false);
    bpf_map* m = FindMap(info);
    int64_t off = ArgInt(info, 1, "offset");
    Napi::Buffer<uint8_t> bytes = ArgBuffer(info, 2, "bytes");
    size_t size = 0;
    uint8_t* data = static_cast<uint8_t*>(bpf_map__initial_value(m, &size));
    if (data == nullptr)
      ThrowError(env, "map", std::string("map ") + bpf_map__name(m) + " has no initial value", EINVAL);
    if (off < 0 || static_cast<uint64_t>(off) + bytes.Length() > size)
      ThrowError(env, "map", std::string("write outside the initial value of ") + bpf_map__name(m), ERANGE);
    memcpy(data + off, bytes.Data(), bytes.Length());
  }

  template <int (*Fn)(bpf_map*, uint32_t)>
  void SetMapU32(const Napi::CallbackInfo& info, const char* what) {
    Napi::Env env = info.Env();
    NeedLoaded(env, false);
    bpf_map* m = FindMap(info);
    int64_t v = ArgInt(info, 1, what);
    if (v < 0 || v > 0xffffffffLL) ThrowError(env, "map", std::string(what) + " out of range", ERANGE);
    int err = Fn(m, static_cast<uint32_t>(v));
    if (err != 0) ThrowError(env, "map", std::string("setting ") + what + " of " + bpf_map__name(m), err);
  }
  static int SetType(bpf_map* m, uint32_t v) { return bpf_map__set_type(m, static_cast<bpf_map_type>(v)); }
  void SetMapType(const Napi::CallbackInfo& info) { SetMapU32<SetType>(info, "type"); }
  void SetMapValueSize(const Napi::CallbackInfo& info) { SetMapU32<bpf_map__set_value_size>(info, "value size"); }
  void SetMapKeySize(const Napi::CallbackInfo& info) { SetMapU32<bpf_map__set_key_size>(info, "key size"); }
  void SetMapMaxEntries(const Napi::CallbackInfo& info) { SetMapU32<bpf_map__set_max_entries>(info, "max entries"); }

  void SetProgramAutoload(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    NeedLoaded(env, false);
    bpf_program* p = FindProg(info);
    if (info.Length() < 2 || !info[1].IsBoolean()) throw Napi::TypeError::New(env, "autoload must be a boolean");
    int err = bpf_program__set_autoload(p, info[1].As<Napi::Boolean>().Value());
    if (err != 0) ThrowError(env, "program", std::string("setting autoload of ") + bpf_program__name(p), err);
  }

  // Where libbpf does not know a section name (IG's "socket1", "classifier/ingress/x"), the
  // runtime says what the program is.
  void SetProgramType(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    NeedLoaded(env, false);
    bpf_program* p = FindProg(info);
    int err = bpf_program__set_type(p, static_cast<bpf_prog_type>(ArgInt(info, 1, "type")));
    if (err == 0 && info.Length() > 2 && info[2].IsNumber())
      err = bpf_program__set_expected_attach_type(p, static_cast<bpf_attach_type>(ArgInt(info, 2, "expectedAttachType")));
    if (err != 0) ThrowError(env, "program", std::string("setting the type of ") + bpf_program__name(p), err);
  }

  void ReuseMapFd(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    NeedLoaded(env, false);
    bpf_map* m = FindMap(info);
    int err = bpf_map__reuse_fd(m, static_cast<int>(ArgInt(info, 1, "fd")));
    if (err != 0) ThrowError(env, "map", std::string("reusing a map fd for ") + bpf_map__name(m), err);
  }

  Napi::Value ProgramInsns(const Napi::CallbackInfo& info) {
    bpf_program* p = FindProg(info);
    const bpf_insn* in = bpf_program__insns(p);
    size_t n = bpf_program__insn_cnt(p);
    return Napi::Buffer<uint8_t>::Copy(info.Env(), reinterpret_cast<const uint8_t*>(in), n * sizeof(bpf_insn));
  }

  // setPacketFilter(program, func, insns): splice these eBPF instructions in front of the body of
  // the program's subprogram `func` when it is loaded (packet_filter.cc)
  void SetPacketFilter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    NeedLoaded(env, false);
    bpf_program* p = FindProg(info);
    std::string func = info[1].As<Napi::String>().Utf8Value();
    Napi::Buffer<uint8_t> code = info[2].As<Napi::Buffer<uint8_t>>();
    int err = ig::SetPacketFilter(obj_, p, func, code.Data(), code.Length());
    if (err != 0) ThrowError(env, "packet filter", "no function " + func + " in the object's BTF", err);
  }

  // load(): true when the iterators' attach BTF ids given at open were used, so libbpf did not
  // read the kernel's whole BTF (see preset_attach.h).
  Napi::Value Load(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    NeedLoaded(env, false);
    bool preset = false;
    if (!attachIds_.empty()) {
      std::vector<const char*> secs;
      std::vector<uint32_t> ids;
      for (auto& [sec, id] : attachIds_) {
        secs.push_back(sec.c_str());
        ids.push_back(id);
      }
      preset = ig_preset_iter_attach(obj_, secs.data(), ids.data(), secs.size()) == 1;
    }
    LogCapture cap;
    // The verifier gives up (EAGAIN) when a signal is pending on the loading thread: a CPU
    // profiler's SIGPROF (every millisecond), or Ctrl-C arriving mid-load. Block them on this
    // thread while loading: the kernel then hands SIGINT/SIGTERM to another thread, where
    // Node's handler still sees them, and the load completes (ig then stops cleanly).
    sigset_t prof, old;
    sigemptyset(&prof);
    sigaddset(&prof, SIGPROF);
    sigaddset(&prof, SIGINT);
    sigaddset(&prof, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &prof, &old);
    int err = bpf_object__load(obj_);
    int loadErrno = errno;
    ig::ClearPacketFilters(obj_);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = loadErrno;
    if (err != 0) {
      std::string log = cap.text();
      ThrowError(env, "load", "loading eBPF object " + name_, err, &log);
    }
    loaded_ = true;
    // The ELF copy is no longer needed by libbpf once loaded.
    std::vector<uint8_t>().swap(elf_);
    return Napi::Boolean::New(env, preset);
  }

  Napi::Value MapFd(const Napi::CallbackInfo& info) {
    NeedLoaded(info.Env(), true);
    return Napi::Number::New(info.Env(), bpf_map__fd(FindMap(info)));
  }
  Napi::Value ProgramFd(const Napi::CallbackInfo& info) {
    NeedLoaded(info.Env(), true);
    int fd = bpf_program__fd(FindProg(info));
    if (fd < 0) ThrowError(info.Env(), "program", "program was not loaded (autoload off?)", ENOENT);
    return Napi::Number::New(info.Env(), fd);
  }
  Napi::Value ProgramId(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int fd = ProgramFd(info).As<Napi::Number>().Int32Value();
    bpf_prog_info pi{};
    uint32_t len = sizeof pi;
    int err = bpf_prog_get_info_by_fd(fd, &pi, &len);
    if (err != 0) ThrowError(env, "program", "reading program info", errno);
    return Napi::Number::New(env, pi.id);
  }
  // Whether the loaded program, as the verifier left it (branches a CO-RE constant decided are
  // removed), only computes in registers and returns: no helper call, no store. Unknown → false.
  Napi::Value ProgramDoesNothing(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int fd = ProgramFd(info).As<Napi::Number>().Int32Value();
    bpf_prog_info pi{};
    uint32_t len = sizeof pi;
    if (bpf_prog_get_info_by_fd(fd, &pi, &len) != 0) return Napi::Boolean::New(env, false);
    size_t n = pi.xlated_prog_len / sizeof(bpf_insn);
    if (n == 0 || n > 64) return Napi::Boolean::New(env, false);  // long programs do something
    std::vector<bpf_insn> insns(n);
    bpf_prog_info pi2{};
    pi2.xlated_prog_len = static_cast<uint32_t>(n * sizeof(bpf_insn));
    pi2.xlated_prog_insns = reinterpret_cast<uint64_t>(insns.data());
    len = sizeof pi2;
    if (bpf_prog_get_info_by_fd(fd, &pi2, &len) != 0 || pi2.xlated_prog_len != n * sizeof(bpf_insn)) {
      return Napi::Boolean::New(env, false);
    }
    for (const bpf_insn& in : insns) {
      switch (BPF_CLASS(in.code)) {
        case BPF_ALU: case BPF_ALU64: case BPF_LD: case BPF_LDX:
          break;
        case BPF_JMP: case BPF_JMP32:
          if (BPF_OP(in.code) == BPF_CALL) return Napi::Boolean::New(env, false);
          break;
        default:  // BPF_ST, BPF_STX (stores, atomics)
          return Napi::Boolean::New(env, false);
      }
    }
    return Napi::Boolean::New(env, true);
  }
  Napi::Value MapId(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int fd = MapFd(info).As<Napi::Number>().Int32Value();
    bpf_map_info mi{};
    uint32_t len = sizeof mi;
    int err = bpf_map_get_info_by_fd(fd, &mi, &len);
    if (err != 0) ThrowError(env, "map", "reading map info", errno);
    return Napi::Number::New(env, mi.id);
  }

  uint32_t AddLink(Link l) {
    for (size_t i = 0; i < links_.size(); i++) {
      if (!links_[i].used()) { links_[i] = l; return static_cast<uint32_t>(i); }
    }
    links_.push_back(l);
    return static_cast<uint32_t>(links_.size() - 1);
  }

  // A perf_event program runs on a sampling event: open one event per CPU and attach
  // the program to each (libbpf's link owns the event fd). Returns the link handles.
  Napi::Value AttachPerfEvent(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    NeedLoaded(env, true);
    bpf_program* p = FindProg(info);
    std::string what = std::string(bpf_program__section_name(p)) + " (" + bpf_program__name(p) + ")";
    Napi::Object opts = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
    auto num = [&](const char* k, int64_t def) -> int64_t {
      Napi::Value v = opts.Get(k);
      return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : def;
    };
    perf_event_attr attr{};
    attr.size = sizeof attr;
    attr.type = static_cast<uint32_t>(num("type", PERF_TYPE_SOFTWARE));
    attr.config = static_cast<uint64_t>(num("config", PERF_COUNT_SW_CPU_CLOCK));
    attr.freq = 1;
    attr.sample_freq = static_cast<uint64_t>(num("frequency", 49));
    int ncpu = libbpf_num_possible_cpus();
    Napi::Array out = Napi::Array::New(env);
    std::vector<uint32_t> made;
    for (int cpu = 0; cpu < ncpu; cpu++) {
      int pfd = static_cast<int>(syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC));
      if (pfd < 0) {
        if (errno == ENODEV) continue;  // a possible but offline CPU
        int err = errno;
        for (uint32_t i : made) links_[i].release();
        ThrowError(env, "attach", "attaching " + what + ": perf_event_open on CPU " + std::to_string(cpu), err);
      }
      Link l;
      l.link = bpf_program__attach_perf_event(p, pfd);
      if (l.link == nullptr) {
        int err = errno;
        close(pfd);
        for (uint32_t i : made) links_[i].release();
        ThrowError(env, "attach", "attaching " + what + " to a perf event on CPU " + std::to_string(cpu), err);
      }
      made.push_back(AddLink(l));
    }
    for (size_t i = 0; i < made.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, made[i]));
    return out;
  }

  Napi::Value Attach(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    NeedLoaded(env, true);
    bpf_program* p = FindProg(info);
    std::string what = std::string(bpf_program__section_name(p)) + " (" + bpf_program__name(p) + ")";
    Napi::Object opts = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
    auto str = [&](const char* k, std::string* out) {
      Napi::Value v = opts.Get(k);
      if (v.IsUndefined() || v.IsNull()) return false;
      if (!v.IsString()) throw Napi::TypeError::New(env, std::string(k) + " must be a string");
      *out = v.As<Napi::String>().Utf8Value();
      return true;
    };
    auto num = [&](const char* k, int64_t def) -> int64_t {
      Napi::Value v = opts.Get(k);
      if (v.IsUndefined() || v.IsNull()) return def;
      if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string(k) + " must be a number");
      return v.As<Napi::Number>().Int64Value();
    };

    Link l;
    std::string ifname, binary, func;
    LogCapture cap;
    if (str("socketIfname", &ifname)) {
      int pfd = bpf_program__fd(p);
      int s = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
      if (s < 0) ThrowError(env, "attach", "attaching " + what + ": socket(AF_PACKET)", errno);
      if (!ifname.empty()) {
        sockaddr_ll sll{};
        sll.sll_family = AF_PACKET;
        sll.sll_protocol = htons(ETH_P_ALL);
        sll.sll_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
        if (sll.sll_ifindex == 0 || bind(s, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
          int err = errno;
          close(s);
          ThrowError(env, "attach", "attaching " + what + ": binding to interface " + ifname, err);
        }
      }
      if (setsockopt(s, SOL_SOCKET, SO_ATTACH_BPF, &pfd, sizeof pfd) != 0) {
        int err = errno;
        close(s);
        ThrowError(env, "attach", "attaching " + what + ": SO_ATTACH_BPF", err);
      }
      l.sockFd = s;
    } else if (str("binaryPath", &binary)) {
      bool hasFunc = str("funcName", &func);
      LIBBPF_OPTS(bpf_uprobe_opts, uo);
      uo.retprobe = opts.Get("retprobe").ToBoolean().Value();
      if (hasFunc) uo.func_name = func.c_str();
      int pid = static_cast<int>(num("pid", -1));
      size_t off = static_cast<size_t>(num("offset", 0));
      uo.ref_ctr_offset = static_cast<size_t>(num("refCtrOffset", 0));
      // libbpf loads usdt/ programs as uprobe_multi where the kernel has it: attach them that way
      if (static_cast<int>(bpf_program__expected_attach_type(p)) == 48 /* BPF_TRACE_UPROBE_MULTI, Linux 6.6+ UAPI */) {
        unsigned long offs[1] = {off};
        unsigned long refs[1] = {uo.ref_ctr_offset};
        LIBBPF_OPTS(bpf_uprobe_multi_opts, mo, .offsets = offs, .ref_ctr_offsets = refs, .cnt = 1, .retprobe = uo.retprobe);
        l.link = bpf_program__attach_uprobe_multi(p, pid, binary.c_str(), nullptr, &mo);
      } else {
        l.link = bpf_program__attach_uprobe_opts(p, pid, binary.c_str(), off, &uo);
      }
      if (l.link == nullptr) {
        std::string log = cap.text();
        ThrowError(env, "attach", "attaching " + what + " to " + binary + (hasFunc ? ":" + func : ""), errno, &log);
      }
    } else {
      l.link = bpf_program__attach(p);
      if (l.link == nullptr) {
        std::string log = cap.text();
        ThrowError(env, "attach", "attaching " + what, errno, &log);
      }
    }
    return Napi::Number::New(env, AddLink(l));
  }

  void Detach(const Napi::CallbackInfo& info) {
    int64_t i = ArgInt(info, 0, "link");
    if (i < 0 || static_cast<size_t>(i) >= links_.size() || !links_[i].used())
      ThrowError(info.Env(), "detach", "no such link " + std::to_string(i), ENOENT);
    links_[i].release();
  }

  Napi::Value ReadIter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    NeedLoaded(env, true);
    bpf_program* p = FindProg(info);
    std::string what = std::string(bpf_program__section_name(p)) + " (" + bpf_program__name(p) + ")";
    int mapFd = -1;
    std::string netns;
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Value v = info[1].As<Napi::Object>().Get("mapFd");
      if (v.IsNumber()) mapFd = v.As<Napi::Number>().Int32Value();
      Napi::Value n = info[1].As<Napi::Object>().Get("netnsPath");
      if (n.IsString()) netns = n.As<Napi::String>().Utf8Value();
    }
    LogCapture cap;
    bpf_link* link;
    if (mapFd >= 0) {
      union bpf_iter_link_info linfo;
      memset(&linfo, 0, sizeof linfo);
      linfo.map.map_fd = static_cast<uint32_t>(mapFd);
      LIBBPF_OPTS(bpf_iter_attach_opts, io, .link_info = &linfo, .link_info_len = sizeof linfo);
      link = bpf_program__attach_iter(p, &io);
    } else {
      link = bpf_program__attach_iter(p, nullptr);
    }
    if (link == nullptr) {
      std::string log = cap.text();
      ThrowError(env, "attach", "attaching iterator " + what, errno, &log);
    }
    // Socket iterators (tcp, udp, unix) walk the network namespace of the thread that creates
    // the iterator fd: to read another namespace, create it on a short-lived thread that
    // joined that namespace (setns affects only the calling thread for CLONE_NEWNET).
    int fd = -1;
    int createErr = 0;
    if (netns.empty()) {
      fd = bpf_iter_create(bpf_link__fd(link));
      createErr = errno;
    } else {
      std::thread t([&]() {
        int nsfd = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
        if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) {
          createErr = errno;
          if (nsfd >= 0) close(nsfd);
          return;
        }
        close(nsfd);
        fd = bpf_iter_create(bpf_link__fd(link));
        createErr = errno;
      });
      t.join();
    }
    if (fd < 0) {
      bpf_link__destroy(link);
      ThrowError(env, "iter", "creating iterator " + what + (netns.empty() ? "" : " in network namespace " + netns), createErr);
    }
    std::vector<uint8_t> out;
    size_t used = 0;
    int err = 0;
    for (;;) {
      if (out.size() - used < 16384) out.resize(out.size() < 65536 ? 65536 : out.size() * 2);
      ssize_t n = read(fd, out.data() + used, out.size() - used);
      if (n < 0) {
        if (errno == EINTR) continue;
        err = errno;
        break;
      }
      if (n == 0) break;
      used += static_cast<size_t>(n);
    }
    close(fd);
    bpf_link__destroy(link);
    if (err != 0) ThrowError(env, "iter", "reading iterator " + what, err);
    return Napi::Buffer<uint8_t>::Copy(env, out.data(), used);
  }

  void Close(const Napi::CallbackInfo&) { Release(); }
};

}  // namespace

Napi::Object InitObject(Napi::Env env, Napi::Object exports) {
  exports.Set("BpfObject", BpfObject::Define(env));
  return exports;
}

}  // namespace ig
