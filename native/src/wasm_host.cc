// What the host side of IG's wasm gadget API needs from the kernel beyond the object's own maps:
// maps a guest creates (newMap), maps reached through a map of maps (by id), a map's info, and
// perf readers a guest reads synchronously (newPerfReader / perfReaderRead). Policy (which map
// types a guest may touch, sizes, error codes) lives in src/wasm/; this layer moves bytes and fds.
#include "common.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <linux/perf_event.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <vector>

namespace ig {

namespace {

// mapCreate(type, keySize, valueSize, maxEntries, name?) -> fd (wasm guests' newMap, the dispatchers' program arrays)
Napi::Value MapCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t type = ArgInt(info, 0, "type");
  int64_t ks = ArgInt(info, 1, "keySize"), vs = ArgInt(info, 2, "valueSize"), max = ArgInt(info, 3, "maxEntries");
  std::string name = info.Length() > 4 && info[4].IsString() ? info[4].As<Napi::String>().Utf8Value() : "";
  if (type < 0 || ks < 0 || vs < 0 || max < 0 || ks > UINT32_MAX || vs > UINT32_MAX || max > UINT32_MAX)
    ThrowError(env, "mapCreate", "invalid map spec", EINVAL);
  // the kernel takes at most 15 characters of a name, of [A-Za-z0-9_.]
  std::string kname;
  for (char c : name) {
    if (kname.size() == 15) break;
    if (isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.') kname += c;
  }
  int fd = bpf_map_create(static_cast<bpf_map_type>(type), kname.empty() ? nullptr : kname.c_str(),
                          static_cast<uint32_t>(ks), static_cast<uint32_t>(vs), static_cast<uint32_t>(max), nullptr);
  if (fd < 0) ThrowError(env, "mapCreate", "creating map " + name, errno);
  return Napi::Number::New(env, fd);
}

Napi::Value MapFdById(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t id = ArgInt(info, 0, "id");
  if (id <= 0 || id > UINT32_MAX) ThrowError(env, "mapFdById", "invalid map id", EINVAL);
  int fd = bpf_map_get_fd_by_id(static_cast<uint32_t>(id));
  if (fd < 0) ThrowError(env, "mapFdById", "opening map id " + std::to_string(id), errno);
  return Napi::Number::New(env, fd);
}

Napi::Value MapInfoByFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t fd = ArgInt(info, 0, "fd");
  bpf_map_info mi{};
  uint32_t len = sizeof(mi);
  if (bpf_map_get_info_by_fd(static_cast<int>(fd), &mi, &len) != 0) ThrowError(env, "mapInfo", "map info", errno);
  Napi::Object o = Napi::Object::New(env);
  o.Set("type", mi.type);
  o.Set("id", mi.id);
  o.Set("keySize", mi.key_size);
  o.Set("valueSize", mi.value_size);
  o.Set("maxEntries", mi.max_entries);
  o.Set("name", std::string(mi.name));
  return o;
}

// One CPU's perf ring. Forward rings are read from data_tail to data_head (and data_tail
// advanced); overwritable (write_backward) rings are mapped read-only and read, while the
// output is paused, from the newest record (data_head) towards the oldest not yet read.
struct Ring {
  int fd = -1;
  int cpu = 0;
  uint8_t* base = nullptr;
  size_t mmapSize = 0, dataSize = 0;
  // overwritable: [read, tail) is what is left to read
  uint64_t head = 0, read = 0, tail = 0;

  perf_event_mmap_page* meta() const { return reinterpret_cast<perf_event_mmap_page*>(base); }
  const uint8_t* data() const { return base + (mmapSize - dataSize); }
  void copy(uint64_t pos, void* dst, size_t n) const {
    size_t off = pos % dataSize, first = std::min(n, dataSize - off);
    memcpy(dst, data() + off, first);
    if (first < n) memcpy(static_cast<uint8_t*>(dst) + first, data(), n - first);
  }
};

class PerfReader : public Napi::ObjectWrap<PerfReader> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PerfReader", {
      InstanceMethod<&PerfReader::Pause>("pause"),
      InstanceMethod<&PerfReader::Resume>("resume"),
      InstanceMethod<&PerfReader::Read>("read"),
      InstanceMethod<&PerfReader::Close>("close"),
    });
  }

  explicit PerfReader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PerfReader>(info) {
    Napi::Env env = info.Env();
    mapFd_ = static_cast<int>(ArgInt(info, 0, "mapFd"));
    int64_t perCpu = ArgInt(info, 1, "perCpuBytes");
    overwritable_ = info.Length() > 2 && info[2].ToBoolean().Value();
    long page = sysconf(_SC_PAGESIZE);
    if (perCpu <= 0 || perCpu > (int64_t{1} << 30)) ThrowError(env, "perfReader", "invalid buffer size", EINVAL);
    size_t pages = (static_cast<size_t>(perCpu) + page - 1) / page, p2 = 1;
    while (p2 < pages) p2 <<= 1;
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) ThrowError(env, "perfReader", "epoll_create1", errno);
    int ncpu = libbpf_num_possible_cpus();
    for (int cpu = 0; cpu < ncpu; cpu++) {
      perf_event_attr attr{};
      attr.size = sizeof(attr);
      attr.type = PERF_TYPE_SOFTWARE;
      attr.config = PERF_COUNT_SW_BPF_OUTPUT;
      attr.sample_type = PERF_SAMPLE_RAW;
      attr.sample_period = 1;
      attr.wakeup_events = 1;
      attr.write_backward = overwritable_ ? 1 : 0;
      int fd = static_cast<int>(syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC));
      if (fd < 0) {
        if (errno == ENODEV) continue;  // an offline CPU
        int e = errno;
        Release();
        ThrowError(env, "perfReader", "perf_event_open on cpu " + std::to_string(cpu), e);
      }
      Ring r;
      r.fd = fd;
      r.cpu = cpu;
      r.dataSize = p2 * page;
      r.mmapSize = r.dataSize + page;
      void* m = mmap(nullptr, r.mmapSize, overwritable_ ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (m == MAP_FAILED) {
        int e = errno;
        close(fd);
        Release();
        ThrowError(env, "perfReader", "mmap of the perf ring", e);
      }
      r.base = static_cast<uint8_t*>(m);
      r.head = r.read = r.tail = __atomic_load_n(&r.meta()->data_head, __ATOMIC_ACQUIRE);
      rings_.push_back(r);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u32 = static_cast<uint32_t>(rings_.size() - 1);
      uint32_t key = static_cast<uint32_t>(cpu);
      if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0 || ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) != 0 ||
          bpf_map_update_elem(mapFd_, &key, &fd, BPF_ANY) != 0) {
        int e = errno;
        Release();
        ThrowError(env, "perfReader", "attaching the perf ring of cpu " + std::to_string(cpu) + " to the map", e);
      }
    }
  }

  ~PerfReader() override { Release(); }

 private:
  void SetPaused(const Napi::CallbackInfo& info, bool paused) {
    if (closed_) ThrowError(info.Env(), "closed", "perf reader is closed", EBADF);
    for (auto& r : rings_) {
      if (ioctl(r.fd, PERF_EVENT_IOC_PAUSE_OUTPUT, paused ? 1 : 0) != 0)
        ThrowError(info.Env(), "perfReader", paused ? "pausing" : "resuming", errno);
    }
    paused_ = paused;
    if (paused && overwritable_) {
      // what was written since the last pause: from the newest record back to where the last pass began
      for (auto& r : rings_) {
        r.tail = r.head;
        r.head = __atomic_load_n(&r.meta()->data_head, __ATOMIC_ACQUIRE);
        r.read = r.head;
        if (r.tail - r.head > r.dataSize) r.tail = r.head + r.dataSize;
      }
    }
  }
  void Pause(const Napi::CallbackInfo& info) { SetPaused(info, true); }
  void Resume(const Napi::CallbackInfo& info) { SetPaused(info, false); }

  // The next sample's raw bytes from ring r, or false when the ring has nothing left.
  bool Next(Ring& r, std::vector<uint8_t>& out) {
    for (;;) {
      uint64_t pos, end;
      if (overwritable_) {
        pos = r.read;
        end = r.tail;
      } else {
        pos = __atomic_load_n(&r.meta()->data_tail, __ATOMIC_RELAXED);
        end = __atomic_load_n(&r.meta()->data_head, __ATOMIC_ACQUIRE);
      }
      if (end - pos < sizeof(perf_event_header) || pos == end) return false;
      perf_event_header h;
      r.copy(pos, &h, sizeof h);
      // an unwritten (zero) header in a ring that never wrapped, or a record cut by the clamp: the pass ends
      if (h.size < sizeof h || h.size > end - pos) return false;
      bool got = false;
      if (h.type == PERF_RECORD_SAMPLE && h.size >= sizeof h + 4) {
        uint32_t n = 0;
        r.copy(pos + sizeof h, &n, 4);
        if (n <= h.size - sizeof h - 4) {
          out.resize(n);
          r.copy(pos + sizeof h + 4, out.data(), n);
          got = true;
        }
      } else if (h.type == PERF_RECORD_LOST) {
        lost_++;
      }
      if (overwritable_) r.read = pos + h.size;
      else __atomic_store_n(&r.meta()->data_tail, pos + h.size, __ATOMIC_RELEASE);
      if (got) return true;
    }
  }

  // read(timeoutMs): the next sample (a Buffer), or null when none came within timeoutMs
  // (overwritable readers never wait: they read what the last pause left). Throws `not-paused`
  // for an overwritable reader that is not paused (cilium/ebpf's rule, which IG's API keeps).
  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) ThrowError(env, "closed", "perf reader is closed", EBADF);
    int64_t timeout = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int64Value() : 0;
    if (overwritable_ && !paused_) ThrowError(env, "not-paused", "an overwritable perf reader must be paused before reading", EINVAL);
    std::vector<uint8_t> sample;
    for (int attempt = 0; attempt < 2; attempt++) {
      for (size_t k = 0; k < rings_.size(); k++) {
        Ring& r = rings_[(next_ + k) % rings_.size()];
        if (Next(r, sample)) {
          next_ = (next_ + k + 1) % rings_.size();
          return Napi::Buffer<uint8_t>::Copy(env, sample.data(), sample.size());
        }
      }
      if (overwritable_ || attempt == 1 || timeout <= 0) break;
      epoll_event evs[16];
      if (epoll_wait(epfd_, evs, 16, static_cast<int>(std::min<int64_t>(timeout, INT32_MAX))) < 0 && errno != EINTR)
        ThrowError(env, "perfReader", "epoll_wait", errno);
    }
    return env.Null();
  }

  void Close(const Napi::CallbackInfo& info) { Release(); }

  // Unmap, close, and take our fds out of the map (an fd closed under a map entry would
  // otherwise stay referenced by the map until the entry is replaced).
  void Release() {
    if (closed_) return;
    closed_ = true;
    for (auto& r : rings_) {
      uint32_t key = static_cast<uint32_t>(r.cpu);
      bpf_map_delete_elem(mapFd_, &key);
      if (r.base) munmap(r.base, r.mmapSize);
      if (r.fd >= 0) close(r.fd);
    }
    rings_.clear();
    if (epfd_ >= 0) close(epfd_);
    epfd_ = -1;
  }

  int mapFd_ = -1, epfd_ = -1;
  bool overwritable_ = false, paused_ = false, closed_ = false;
  size_t next_ = 0;
  uint64_t lost_ = 0;
  std::vector<Ring> rings_;
};

}  // namespace

Napi::Object InitWasmHost(Napi::Env env, Napi::Object exports) {
  exports.Set("mapCreate", Napi::Function::New<MapCreate>(env, "mapCreate"));
  exports.Set("mapFdById", Napi::Function::New<MapFdById>(env, "mapFdById"));
  exports.Set("mapInfo", Napi::Function::New<MapInfoByFd>(env, "mapInfo"));
  exports.Set("PerfReader", PerfReader::Define(env));
  return exports;
}

}  // namespace ig
