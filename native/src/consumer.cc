// RecordConsumer: drains a RINGBUF or PERF_EVENT_ARRAY map on a native thread and
// hands JS whole batches through ONE thread-safe function (one JS call per wakeup,
// never per record).
//
// Thread loop: poll(ring epoll fd + a stop eventfd, pollTimeoutMs), then always
// consume (the eBPF side may submit with BPF_RB_NO_WAKEUP, so data can be pending
// without a wakeup), then hand the batch over. Until the first record (for at most
// kEagerWindow) the poll times out every kEagerPollMs instead: a run's first event is
// its start-up as the user sees it, and without a wakeup it would wait up to a whole
// pollTimeoutMs (bench/README.md, "Start-up, round four"). A ring read at a high rate is polled
// sooner than pollTimeoutMs, when about kEarlyBytes should be waiting (bench/README.md, "The
// tight loop, round five").
//
// Memory: a fixed pool of kSlots batch buffers (maxBatchBytes each), filled here and lent to
// JS: a batch's `data` is a view of its slot, valid only while onBatch runs (JS copies what it
// keeps); the slot is reused as soon as onBatch returns. No allocation or copy per batch, and
// memory is bounded by the pool, not by when a GC notices garbage. Back pressure: when JS falls
// behind and every slot is lent or queued, the native thread waits for one to come back; the
// kernel ring then fills up and the eBPF side sees failed reserves (counted as lost samples)
// instead of this process growing without bound.
//
// Pause: pause(true) stops reading the ring until pause(false) (a daemon whose client reads
// slower than the gadget produces): the kernel ring then fills and the eBPF side counts what it
// cannot reserve as lost, as when JS falls behind, instead of this process reading records only
// to drop them.
//
// Lifetime: the thread calls Release() on the TSFN when it exits; the TSFN finalizer
// runs on the JS thread after the last batch was delivered, joins the thread, frees the
// ring and resolves every stop() promise. While running, the TSFN keeps the event loop
// alive and the JS object is pinned (Ref) so GC cannot free it under the thread.
#include "common.h"

#include <bpf/libbpf.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace ig {

namespace {

// 32 slots of 256 KiB: ~25k trace_open records waiting for JS (a GC, a blocking write) on top of the
// kernel ring; at most 8 MiB, touched only as far as it is used.
constexpr size_t kSlots = 32;

struct Batch {
  std::vector<uint8_t> data;  // capacity kept between uses: the slot's memory
  std::vector<uint32_t> offsets;
  std::vector<uint32_t> sizes;
  double lost = 0;
  bool empty() const { return offsets.empty() && lost == 0; }
  void clear() {
    data.clear();
    offsets.clear();
    sizes.clear();
    lost = 0;
  }
};

class RecordConsumer : public Napi::ObjectWrap<RecordConsumer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "RecordConsumer", {InstanceMethod<&RecordConsumer::Stop>("stop"),
                                                    InstanceMethod<&RecordConsumer::Pause>("pause")});
  }

  RecordConsumer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RecordConsumer>(info) {
    Napi::Env env = info.Env();
    int64_t mapFd = ArgInt(info, 0, "mapFd");
    std::string kind = ArgString(info, 1, "kind");
    if (kind != "ringbuf" && kind != "perf") throw Napi::TypeError::New(env, "kind must be 'ringbuf' or 'perf'");
    perf_ = kind == "perf";
    if (info.Length() < 3 || !info[2].IsFunction()) throw Napi::TypeError::New(env, "onBatch must be a function");
    Napi::Function onBatch = info[2].As<Napi::Function>();
    int64_t pages = 64;
    if (info.Length() > 3 && info[3].IsObject()) {
      Napi::Object o = info[3].As<Napi::Object>();
      auto num = [&](const char* k, int64_t def) -> int64_t {
        Napi::Value v = o.Get(k);
        if (v.IsUndefined() || v.IsNull()) return def;
        if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string(k) + " must be a number");
        return v.As<Napi::Number>().Int64Value();
      };
      pages = num("perfPagesPerCpu", 64);
      timeoutMs_ = static_cast<int>(num("pollTimeoutMs", 10));
      int64_t mb = num("maxBatchBytes", 256 << 10);
      maxBatch_ = mb > 0 ? static_cast<size_t>(mb) : 1;
    }
    if (timeoutMs_ < 0) timeoutMs_ = 10;

    // Own a dup of the map fd so the consumer survives the object's close().
    fd_ = fcntl(static_cast<int>(mapFd), F_DUPFD_CLOEXEC, 0);
    if (fd_ < 0) ThrowError(env, "consumer", "duplicating map fd", errno);
    eventFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (eventFd_ < 0) {
      int err = errno;
      FreeRing();
      ThrowError(env, "consumer", "eventfd", err);
    }
    LogCapture cap;
    if (perf_) {
      pb_ = perf_buffer__new(fd_, static_cast<size_t>(pages), &RecordConsumer::OnSample, &RecordConsumer::OnLost,
                             this, nullptr);
      if (pb_ == nullptr) {
        int err = errno;
        FreeRing();
        std::string log = cap.text();
        ThrowError(env, "consumer", "creating perf buffer", err, &log);
      }
      pollFd_ = perf_buffer__epoll_fd(pb_);
    } else {
      rb_ = ring_buffer__new(fd_, &RecordConsumer::OnRecord, this, nullptr);
      if (rb_ == nullptr) {
        int err = errno;
        FreeRing();
        std::string log = cap.text();
        ThrowError(env, "consumer", "creating ring buffer", err, &log);
      }
      pollFd_ = ring_buffer__epoll_fd(rb_);
    }
    // every slot can be queued at once: the queue never makes BlockingCall wait, the pool does
    tsfn_ = Napi::ThreadSafeFunction::New(env, onBatch, "ig-record-consumer", kSlots, 1,
                                          [this](Napi::Env e) { OnFinished(e); });
    Ref();
    for (auto& slot : slots_) free_.push_back(&slot);
    cur_ = TakeSlot();
    thread_ = std::thread([this] { Run(); });
  }

  ~RecordConsumer() override {
    // Normally the TSFN finalizer already joined the thread. Defensive only.
    if (thread_.joinable()) {
      stopping_ = true;
      Signal();
      thread_.join();
    }
    FreeRing();
  }

 private:
  bool perf_ = false;
  int fd_ = -1;
  int eventFd_ = -1;
  int pollFd_ = -1;
  int timeoutMs_ = 10;
  static constexpr int kEagerPollMs = 1;
  static constexpr std::chrono::milliseconds kEagerWindow{250};
  // A ring reader wakes itself before the eBPF side would: gadget_submit_buf() forces a wakeup
  // on every record while more than 64 KiB wait, each one a self-IPI on the traced task's CPU
  // (a VM exit here) until this thread runs. At a high rate the poll times out when about
  // kEarlyBytes should be waiting, so the wakeup is this thread's own timer, on its own CPU.
  static constexpr double kEarlyBytes = 32 << 10;
  static constexpr long kMinTimeoutUs = 100;
  size_t drained_ = 0;        // thread only: record bytes appended since the last poll
  double rate_ = 0;           // thread only: record bytes per second, smoothed
  size_t maxBatch_ = 256 << 10;  // the default ring size: ~800 trace_open records per JS call
  ring_buffer* rb_ = nullptr;
  perf_buffer* pb_ = nullptr;
  Napi::ThreadSafeFunction tsfn_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> paused_{false};
  bool closing_ = false;      // thread only: the TSFN refused a call
  Batch* cur_ = nullptr;      // thread only while running
  bool finished_ = false;     // JS thread only
  std::vector<Napi::Promise::Deferred> waiting_;
  Batch slots_[kSlots];
  std::mutex poolMu_;
  std::condition_variable poolCv_;
  std::vector<Batch*> free_;  // slots neither being filled nor lent to JS (guarded by poolMu_)

  // A free slot, waiting for JS to give one back. Also while stopping: pending records are
  // delivered first, and every lent slot comes back (CallJs returns it, also at teardown).
  Batch* TakeSlot() {
    std::unique_lock<std::mutex> lk(poolMu_);
    poolCv_.wait(lk, [this] { return !free_.empty(); });
    Batch* b = free_.back();
    free_.pop_back();
    b->clear();
    return b;
  }

  void GiveBack(Batch* b) {
    {
      std::lock_guard<std::mutex> lk(poolMu_);
      free_.push_back(b);
    }
    poolCv_.notify_one();
  }

  void FreeRing() {
    if (rb_ != nullptr) ring_buffer__free(rb_);
    if (pb_ != nullptr) perf_buffer__free(pb_);
    rb_ = nullptr;
    pb_ = nullptr;
    if (fd_ >= 0) close(fd_);
    if (eventFd_ >= 0) close(eventFd_);
    fd_ = eventFd_ = pollFd_ = -1;
  }

  void Signal() {
    if (eventFd_ >= 0) {
      uint64_t one = 1;
      ssize_t r = write(eventFd_, &one, sizeof one);
      (void)r;
    }
  }

  // ---- native thread ----
  void Append(const void* data, size_t size) {
    if (closing_ || cur_ == nullptr) return;
    if (!cur_->offsets.empty() && cur_->data.size() + size > maxBatch_) Flush();
    if (closing_ || cur_ == nullptr) return;
    drained_ += size;
    cur_->offsets.push_back(static_cast<uint32_t>(cur_->data.size()));
    cur_->sizes.push_back(static_cast<uint32_t>(size));
    const uint8_t* p = static_cast<const uint8_t*>(data);
    cur_->data.insert(cur_->data.end(), p, p + size);
  }

  static int OnRecord(void* ctx, void* data, size_t size) {
    static_cast<RecordConsumer*>(ctx)->Append(data, size);
    return 0;
  }
  static void OnSample(void* ctx, int, void* data, uint32_t size) {
    static_cast<RecordConsumer*>(ctx)->Append(data, size);
  }
  static void OnLost(void* ctx, int, unsigned long long cnt) {
    RecordConsumer* self = static_cast<RecordConsumer*>(ctx);
    if (self->cur_ != nullptr) self->cur_->lost += static_cast<double>(cnt);
  }

  void Consume() {
    if (perf_) perf_buffer__consume(pb_);
    else ring_buffer__consume(rb_);
  }

  void Flush() {
    if (closing_ || cur_ == nullptr || cur_->empty()) return;
    Batch* b = cur_;
    napi_status st = tsfn_.BlockingCall(b, [this](Napi::Env env, Napi::Function fn, Batch* batch) { CallJs(env, fn, batch, this); });
    if (st != napi_ok) {
      closing_ = true;
      cur_ = nullptr;
      return;
    }
    cur_ = TakeSlot();
  }

  // How long the next poll may sleep: the configured timeout, or less where the ring fills faster
  // than kEarlyBytes per timeout (ring buffers only: a perf buffer wakes its reader itself).
  long TimeoutUs() const {
    long us = static_cast<long>(timeoutMs_) * 1000;
    if (perf_ || rate_ * us <= kEarlyBytes * 1e6) return us;
    return std::max(kMinTimeoutUs, static_cast<long>(kEarlyBytes * 1e6 / rate_));
  }

  void Run() {
    using Clock = std::chrono::steady_clock;
    // a few hundred short polls at most, then the configured timeout
    bool eager = timeoutMs_ > kEagerPollMs;
    const auto eagerUntil = Clock::now() + kEagerWindow;
    auto lastDrain = Clock::now();
    while (!stopping_.load() && !closing_) {
      bool paused = paused_.load();
      // paused: only the eventfd (stop or resume) is watched; poll ignores a negative fd
      pollfd fds[2] = {{paused ? -1 : pollFd_, POLLIN, 0}, {eventFd_, POLLIN, 0}};
      if (eager && Clock::now() >= eagerUntil) eager = false;
      long us = paused ? 100000 : eager ? kEagerPollMs * 1000 : TimeoutUs();
      timespec ts{us / 1000000, (us % 1000000) * 1000};
      ppoll(fds, 2, &ts, nullptr);
      if (fds[1].revents & POLLIN) {
        uint64_t v;  // a resume is a one-off wake-up: drained, so poll blocks again (stop is read from stopping_)
        ssize_t r = read(eventFd_, &v, sizeof v);
        (void)r;
      }
      if (paused_.load()) continue;
      drained_ = 0;
      Consume();
      const auto now = Clock::now();
      const double secs = std::chrono::duration<double>(now - lastDrain).count();
      lastDrain = now;
      if (secs > 0) rate_ = 0.5 * rate_ + 0.5 * (static_cast<double>(drained_) / secs);
      if (eager && cur_ != nullptr && !cur_->offsets.empty()) eager = false;
      Flush();
    }
    if (!closing_) {
      Consume();
      Flush();
    }
    tsfn_.Release();
  }

  // ---- JS thread ----
  static void CallJs(Napi::Env env, Napi::Function fn, Batch* b, RecordConsumer* self) {
    if (env == nullptr || fn.IsEmpty()) {
      self->GiveBack(b);
      return;
    }
    Napi::Object batch = Napi::Object::New(env);
    if (b->data.empty()) {
      batch.Set("data", Napi::Buffer<uint8_t>::New(env, 0));
    } else {
      // A view of the slot, not a copy: valid while onBatch runs; the slot is reused after.
      batch.Set("data", Napi::Buffer<uint8_t>::New(env, b->data.data(), b->data.size()));
    }
    size_t n = b->offsets.size();
    Napi::Uint32Array offsets = Napi::Uint32Array::New(env, n);
    Napi::Uint32Array sizes = Napi::Uint32Array::New(env, n);
    if (n > 0) {
      memcpy(offsets.Data(), b->offsets.data(), n * sizeof(uint32_t));
      memcpy(sizes.Data(), b->sizes.data(), n * sizeof(uint32_t));
    }
    batch.Set("offsets", offsets);
    batch.Set("sizes", sizes);
    batch.Set("lost", Napi::Number::New(env, b->lost));
    try {
      fn.Call({batch});
    } catch (...) {
      self->GiveBack(b);
      throw;
    }
    self->GiveBack(b);
  }

  void OnFinished(Napi::Env env) {
    stopping_ = true;
    Signal();
    if (thread_.joinable()) thread_.join();
    FreeRing();
    finished_ = true;
    try {
      for (auto& d : waiting_) d.Resolve(env.Undefined());
      waiting_.clear();
      Unref();
    } catch (...) {
      // environment shutting down
    }
  }

  Napi::Value Pause(const Napi::CallbackInfo& info) {
    bool on = info.Length() > 0 && info[0].ToBoolean().Value();
    if (paused_.exchange(on) != on && !on) Signal();
    return info.Env().Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
    if (finished_) {
      d.Resolve(env.Undefined());
      return d.Promise();
    }
    waiting_.push_back(d);
    if (!stopping_.exchange(true)) Signal();
    return d.Promise();
  }
};

}  // namespace

Napi::Object InitConsumer(Napi::Env env, Napi::Object exports) {
  exports.Set("RecordConsumer", RecordConsumer::Define(env));
  return exports;
}

}  // namespace ig
