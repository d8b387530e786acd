// Map operations on any map fd (thin wrappers over libbpf's low-level bpf_map_* calls).
#include "common.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <unistd.h>

#include <vector>

namespace ig {

namespace {

constexpr int kENOTSUPP = 524;  // kernel-internal, leaks to user space from batch ops

int FdArg(const Napi::CallbackInfo& info) {
  int64_t fd = ArgInt(info, 0, "fd");
  if (fd < 0 || fd > 0x7fffffff) ThrowError(info.Env(), "map", "invalid fd", EBADF);
  return static_cast<int>(fd);
}

size_t SizeArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  int64_t v = ArgInt(info, i, what);
  if (v < 0 || v > (int64_t{1} << 31)) ThrowError(info.Env(), "map", std::string("invalid ") + what, EINVAL);
  return static_cast<size_t>(v);
}

Napi::Value MapLookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  Napi::Buffer<uint8_t> key = ArgBuffer(info, 1, "key");
  size_t vs = SizeArg(info, 2, "valueSize");
  Napi::Buffer<uint8_t> value = Napi::Buffer<uint8_t>::New(env, vs);
  if (bpf_map_lookup_elem(fd, key.Data(), value.Data()) != 0) {
    if (errno == ENOENT) return env.Null();
    ThrowError(env, "mapLookup", "map lookup", errno);
  }
  return value;
}

void MapUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  Napi::Buffer<uint8_t> key = ArgBuffer(info, 1, "key");
  Napi::Buffer<uint8_t> value = ArgBuffer(info, 2, "value");
  uint64_t flags = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int64Value() : 0;
  if (bpf_map_update_elem(fd, key.Data(), value.Data(), flags) != 0) ThrowError(env, "mapUpdate", "map update", errno);
}

Napi::Value MapDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  Napi::Buffer<uint8_t> key = ArgBuffer(info, 1, "key");
  if (bpf_map_delete_elem(fd, key.Data()) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    ThrowError(env, "mapDelete", "map delete", errno);
  }
  return Napi::Boolean::New(env, true);
}

Napi::Value MapNextKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  const void* key = nullptr;
  if (info.Length() > 1 && info[1].IsBuffer()) key = info[1].As<Napi::Buffer<uint8_t>>().Data();
  else if (info.Length() > 1 && !info[1].IsNull() && !info[1].IsUndefined())
    throw Napi::TypeError::New(env, "key must be a Buffer or null");
  size_t ks = SizeArg(info, 2, "keySize");
  Napi::Buffer<uint8_t> next = Napi::Buffer<uint8_t>::New(env, ks);
  if (bpf_map_get_next_key(fd, key, next.Data()) != 0) {
    if (errno == ENOENT) return env.Null();
    ThrowError(env, "mapNextKey", "map get_next_key", errno);
  }
  return next;
}

struct Dump {
  std::vector<uint8_t> keys, values;
  size_t count = 0;
};

// Batch dump. Returns false (nothing collected) when the kernel has no batch op for this map.
bool DumpBatch(Napi::Env env, int fd, size_t ks, size_t stride, uint32_t maxEntries, bool andDelete, Dump* d) {
  std::vector<uint8_t> inTok(ks < 8 ? 8 : ks), outTok(inTok.size());
  size_t chunk = maxEntries < 256 ? 256 : (maxEntries > 8192 ? 8192 : maxEntries);
  bool first = true;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  for (;;) {
    if (d->keys.size() < (d->count + chunk) * ks) d->keys.resize((d->count + chunk) * ks);
    if (d->values.size() < (d->count + chunk) * stride) d->values.resize((d->count + chunk) * stride);
    uint32_t n = static_cast<uint32_t>(chunk);
    void* in = first ? nullptr : inTok.data();
    int err = andDelete
        ? bpf_map_lookup_and_delete_batch(fd, in, outTok.data(), d->keys.data() + d->count * ks,
                                          d->values.data() + d->count * stride, &n, &opts)
        : bpf_map_lookup_batch(fd, in, outTok.data(), d->keys.data() + d->count * ks,
                               d->values.data() + d->count * stride, &n, &opts);
    int e = err != 0 ? errno : 0;
    if (err != 0 && e != ENOENT) {
      if (e == ENOSPC && n == 0) {  // a hash bucket bigger than the chunk
        chunk *= 2;
        continue;
      }
      if (d->count == 0 && first && (e == EINVAL || e == kENOTSUPP || e == EOPNOTSUPP || e == ENOTSUP))
        return false;
      ThrowError(env, "mapDump", andDelete ? "map lookup_and_delete batch" : "map lookup batch", e);
    }
    d->count += n;
    first = false;
    if (e == ENOENT) break;
    inTok.swap(outTok);
  }
  d->keys.resize(d->count * ks);
  d->values.resize(d->count * stride);
  return true;
}

void DumpIterate(Napi::Env env, int fd, size_t ks, size_t stride, bool andDelete, Dump* d) {
  // Collect keys first: deleting while walking with get_next_key restarts hash walks.
  std::vector<uint8_t> key(ks), next(ks);
  const void* cur = nullptr;
  std::vector<uint8_t> keys;
  for (;;) {
    if (bpf_map_get_next_key(fd, cur, next.data()) != 0) {
      if (errno == ENOENT) break;
      ThrowError(env, "mapDump", "map get_next_key", errno);
    }
    keys.insert(keys.end(), next.begin(), next.end());
    key.swap(next);
    cur = key.data();
  }
  size_t total = ks ? keys.size() / ks : 0;
  d->keys.reserve(keys.size());
  d->values.resize(total * stride);
  for (size_t i = 0; i < total; i++) {
    const uint8_t* k = keys.data() + i * ks;
    if (bpf_map_lookup_elem(fd, k, d->values.data() + d->count * stride) != 0) {
      if (errno == ENOENT) continue;  // deleted meanwhile
      ThrowError(env, "mapDump", "map lookup", errno);
    }
    d->keys.insert(d->keys.end(), k, k + ks);
    d->count++;
    // Arrays cannot delete (EINVAL): their entries are reported and kept.
    if (andDelete) bpf_map_delete_elem(fd, k);
  }
  d->values.resize(d->count * stride);
}

Napi::Value MapDump(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  size_t ks = SizeArg(info, 1, "keySize");
  size_t vs = SizeArg(info, 2, "valueSize");
  bool andDelete = false, perCpu = false;
  if (info.Length() > 3 && info[3].IsObject()) {
    Napi::Object o = info[3].As<Napi::Object>();
    andDelete = o.Get("andDelete").ToBoolean().Value();
    perCpu = o.Get("perCpu").ToBoolean().Value();
  }
  size_t stride = vs;
  if (perCpu) {
    int ncpu = libbpf_num_possible_cpus();
    if (ncpu < 0) ThrowError(env, "mapDump", "counting possible CPUs", ncpu);
    stride = ((vs + 7) / 8) * 8 * static_cast<size_t>(ncpu);
  }
  bpf_map_info mi{};
  uint32_t len = sizeof mi;
  if (bpf_map_get_info_by_fd(fd, &mi, &len) != 0) ThrowError(env, "mapDump", "reading map info", errno);
  Dump d;
  if (!DumpBatch(env, fd, ks, stride, mi.max_entries, andDelete, &d)) {
    d = Dump();
    // No lookup_and_delete batch (e.g. arrays): try a plain lookup batch, else walk keys.
    if (andDelete || !DumpBatch(env, fd, ks, stride, mi.max_entries, false, &d)) {
      d = Dump();
      DumpIterate(env, fd, ks, stride, andDelete, &d);
    }
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("keys", Napi::Buffer<uint8_t>::Copy(env, d.keys.data(), d.keys.size()));
  out.Set("values", Napi::Buffer<uint8_t>::Copy(env, d.values.data(), d.values.size()));
  out.Set("count", static_cast<double>(d.count));
  return out;
}

Napi::Value NumPossibleCpus(const Napi::CallbackInfo& info) {
  int n = libbpf_num_possible_cpus();
  if (n < 0) ThrowError(info.Env(), "cpus", "counting possible CPUs", n);
  return Napi::Number::New(info.Env(), n);
}

void CloseFd(const Napi::CallbackInfo& info) {
  int fd = FdArg(info);
  if (close(fd) != 0) ThrowError(info.Env(), "close", "closing fd " + std::to_string(fd), errno);
}

// bpfPrograms(): every program in the kernel (id, name, type, run time and count, map ids).
Napi::Value BpfPrograms(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  uint32_t id = 0, n = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) continue;  // gone meanwhile
    uint32_t maps[64];
    bpf_prog_info pi{};
    pi.nr_map_ids = 64;
    pi.map_ids = reinterpret_cast<uint64_t>(maps);
    uint32_t len = sizeof pi;
    int err = bpf_prog_get_info_by_fd(fd, &pi, &len);
    close(fd);
    if (err != 0) continue;
    Napi::Object o = Napi::Object::New(env);
    o.Set("id", pi.id);
    o.Set("name", std::string(pi.name));
    o.Set("type", pi.type);
    o.Set("attachBtfId", pi.attach_btf_id);
    o.Set("attachBtfObjId", pi.attach_btf_obj_id);
    o.Set("runTimeNs", Napi::BigInt::New(env, static_cast<uint64_t>(pi.run_time_ns)));
    o.Set("runCount", Napi::BigInt::New(env, static_cast<uint64_t>(pi.run_cnt)));
    Napi::Array m = Napi::Array::New(env);
    for (uint32_t i = 0; i < pi.nr_map_ids && i < 64; i++) m.Set(i, maps[i]);
    o.Set("mapIds", m);
    out.Set(n++, o);
  }
  return out;
}

// enableBpfStats() -> fd: run time and count are kept while the fd is open (BPF_ENABLE_STATS).
Napi::Value EnableBpfStats(const Napi::CallbackInfo& info) {
  int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (fd < 0) ThrowError(info.Env(), "stats", "enabling BPF run-time statistics", errno);
  return Napi::Number::New(info.Env(), fd);
}

}  // namespace

Napi::Object InitMaps(Napi::Env env, Napi::Object exports) {
  exports.Set("bpfPrograms", Napi::Function::New(env, BpfPrograms));
  exports.Set("enableBpfStats", Napi::Function::New(env, EnableBpfStats));
  exports.Set("mapLookup", Napi::Function::New<MapLookup>(env, "mapLookup"));
  exports.Set("mapUpdate", Napi::Function::New<MapUpdate>(env, "mapUpdate"));
  exports.Set("mapDelete", Napi::Function::New<MapDelete>(env, "mapDelete"));
  exports.Set("mapNextKey", Napi::Function::New<MapNextKey>(env, "mapNextKey"));
  exports.Set("mapDump", Napi::Function::New<MapDump>(env, "mapDump"));
  exports.Set("numPossibleCpus", Napi::Function::New<NumPossibleCpus>(env, "numPossibleCpus"));
  exports.Set("closeFd", Napi::Function::New<CloseFd>(env, "closeFd"));
  return exports;
}

}  // namespace ig
