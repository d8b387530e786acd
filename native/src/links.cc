// Attachments made from a program fd, outside a BpfObject: xdp, tcx and cgroup links, legacy tc
// (clsact + direct-action bpf filter, over netlink), AF_PACKET sockets with a socket filter; each
// optionally inside another network namespace. Plus raw program and map creation, for the
// runtime's small dispatcher programs. Policy (what attaches where) lives in TypeScript.
#include "common.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <thread>

namespace ig {

namespace {

// enum bpf_attach_type values of Linux 6.6+ (the build host's UAPI headers may be older)
constexpr int kTcxIngress = 46, kTcxEgress = 47;

// Run fn in the network namespace open as nsFd (-1: here). setns(CLONE_NEWNET) changes only the
// calling thread, so a short-lived thread joins the namespace and the caller's stays untouched.
int InNetns(int nsFd, const std::function<int()>& fn) {
  if (nsFd < 0) return fn();
  int ret = 0;
  std::thread t([&]() {
    if (setns(nsFd, CLONE_NEWNET) != 0) {
      ret = -errno;
      return;
    }
    ret = fn();
  });
  t.join();
  return ret;
}

std::string OptString(Napi::Object o, const char* k) {
  Napi::Value v = o.Get(k);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}
int64_t OptInt(Napi::Object o, const char* k, int64_t def) {
  Napi::Value v = o.Get(k);
  return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : def;
}

class Attachment : public Napi::ObjectWrap<Attachment> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Attachment", {
      InstanceMethod<&Attachment::Detach>("detach"),
      InstanceAccessor<&Attachment::Ifindex>("ifindex"),
      InstanceAccessor<&Attachment::Handle>("tcHandle"),
      InstanceAccessor<&Attachment::Priority>("tcPriority"),
    });
  }

  // new Attachment({ kind, progFd, ifname?, direction?, netnsPath?, cgroupPath?, attachType? })
  Attachment(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Attachment>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "options expected");
    Napi::Object o = info[0].As<Napi::Object>();
    kind_ = OptString(o, "kind");
    int progFd = static_cast<int>(OptInt(o, "progFd", -1));
    std::string ifname = OptString(o, "ifname");
    std::string netns = OptString(o, "netnsPath");
    std::string what = kind_ + (ifname.empty() ? "" : " on " + ifname) + (netns.empty() ? "" : " in " + netns);
    if (progFd < 0) ThrowError(env, "attach", "attaching " + what + ": no program fd", EBADF);
    if (!netns.empty()) {
      nsFd_ = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
      if (nsFd_ < 0) ThrowError(env, "attach", "attaching " + what + ": opening the network namespace", errno);
    }
    LogCapture cap;
    int err = 0;
    if (kind_ == "cgroup") {
      std::string path = OptString(o, "cgroupPath");
      int cg = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (cg < 0) Fail(env, "attaching to cgroup " + path, errno);
      fd_ = bpf_link_create(progFd, cg, static_cast<bpf_attach_type>(OptInt(o, "attachType", 0)), nullptr);
      err = fd_ < 0 ? errno : 0;
      close(cg);
      if (fd_ < 0) Fail(env, "attaching to cgroup " + path, err);
      return;
    }
    std::string dir = OptString(o, "direction");
    err = -InNetns(nsFd_, [&]() -> int {
      if (!ifname.empty()) {
        ifindex_ = static_cast<int>(if_nametoindex(ifname.c_str()));
        if (ifindex_ == 0) return -ENODEV;
      }
      if (kind_ == "xdp") {
        fd_ = bpf_link_create(progFd, ifindex_, BPF_XDP, nullptr);
        return fd_ < 0 ? -errno : 0;
      }
      if (kind_ == "tcx") {
        fd_ = bpf_link_create(progFd, ifindex_, static_cast<bpf_attach_type>(dir == "egress" ? kTcxEgress : kTcxIngress), nullptr);
        return fd_ < 0 ? -errno : 0;
      }
      if (kind_ == "tc") {
        LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex_, .attach_point = dir == "egress" ? BPF_TC_EGRESS : BPF_TC_INGRESS);
        int e = bpf_tc_hook_create(&hook);
        if (e != 0 && e != -EEXIST) return e;
        LIBBPF_OPTS(bpf_tc_opts, to, .prog_fd = progFd);
        e = bpf_tc_attach(&hook, &to);
        if (e != 0) return e;
        egress_ = dir == "egress";
        handle_ = to.handle;
        priority_ = to.priority;
        return 0;
      }
      if (kind_ == "socket") {
        int s = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
        if (s < 0) return -errno;
        if (ifindex_ != 0) {
          sockaddr_ll sll{};
          sll.sll_family = AF_PACKET;
          sll.sll_protocol = htons(ETH_P_ALL);
          sll.sll_ifindex = ifindex_;
          if (bind(s, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
            int e = errno;
            close(s);
            return -e;
          }
        }
        if (setsockopt(s, SOL_SOCKET, SO_ATTACH_BPF, &progFd, sizeof progFd) != 0) {
          int e = errno;
          close(s);
          return -e;
        }
        fd_ = s;
        return 0;
      }
      return -EINVAL;
    });
    if (err != 0) Fail(env, "attaching " + what, err, &cap.text());
  }

  ~Attachment() override { Release(); }

 private:
  std::string kind_;
  int fd_ = -1;
  int nsFd_ = -1;
  int ifindex_ = 0;
  bool egress_ = false;
  uint32_t handle_ = 0, priority_ = 0;

  [[noreturn]] void Fail(Napi::Env env, const std::string& msg, int err, const std::string* log = nullptr) {
    Release();
    ThrowError(env, "attach", msg, err, log);
  }

  // Links and sockets go away with their fd (also when the process dies); a tc filter must be
  // deleted over netlink, in its namespace.
  int Release() {
    int err = 0;
    if (kind_ == "tc" && handle_ != 0) {
      err = -InNetns(nsFd_, [&]() -> int {
        LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex_, .attach_point = egress_ ? BPF_TC_EGRESS : BPF_TC_INGRESS);
        LIBBPF_OPTS(bpf_tc_opts, to, .handle = handle_, .priority = priority_);
        return bpf_tc_detach(&hook, &to);
      });
      handle_ = 0;
    }
    if (fd_ >= 0) close(fd_);
    if (nsFd_ >= 0) close(nsFd_);
    fd_ = nsFd_ = -1;
    return err;
  }

  void Detach(const Napi::CallbackInfo& info) {
    int err = Release();
    // the interface (or its namespace) is already gone: so is the filter
    if (err != 0 && err != ENOENT && err != ENODEV && err != EINVAL)
      ThrowError(info.Env(), "detach", "detaching " + kind_, err);
  }
  Napi::Value Ifindex(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ifindex_); }
  Napi::Value Handle(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), handle_); }
  Napi::Value Priority(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), priority_); }
};

// tcDetach(netnsPath, ifindex, direction, handle, priority): delete one legacy tc filter, for the
// guard that outlives a killed ig (src/runtime/attach/tc-guard.ts).
void TcDetach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string ns = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : std::string();
  int ifindex = static_cast<int>(ArgInt(info, 1, "ifindex"));
  bool egress = ArgString(info, 2, "direction") == "egress";
  uint32_t handle = static_cast<uint32_t>(ArgInt(info, 3, "handle")), prio = static_cast<uint32_t>(ArgInt(info, 4, "priority"));
  int nsFd = ns.empty() ? -1 : open(ns.c_str(), O_RDONLY | O_CLOEXEC);
  if (!ns.empty() && nsFd < 0) ThrowError(env, "detach", "opening " + ns, errno);
  int err = -InNetns(nsFd, [&]() -> int {
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
    LIBBPF_OPTS(bpf_tc_opts, to, .handle = handle, .priority = prio);
    return bpf_tc_detach(&hook, &to);
  });
  if (nsFd >= 0) close(nsFd);
  if (err != 0 && err != ENOENT && err != ENODEV && err != EINVAL) ThrowError(env, "detach", "detaching a tc filter", err);
}

// progLoad(type, insns, { name?, expectedAttachType?, license? }) -> fd
Napi::Value ProgLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int type = static_cast<int>(ArgInt(info, 0, "type"));
  Napi::Buffer<uint8_t> insns = ArgBuffer(info, 1, "insns");
  Napi::Object o = info.Length() > 2 && info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(env);
  std::string name = OptString(o, "name");
  std::string license = OptString(o, "license");
  if (license.empty()) license = "GPL";
  std::string log(65536, '\0');
  LIBBPF_OPTS(bpf_prog_load_opts, po);
  po.expected_attach_type = static_cast<bpf_attach_type>(OptInt(o, "expectedAttachType", 0));
  po.log_level = 1;
  po.log_size = static_cast<uint32_t>(log.size());
  po.log_buf = log.data();
  int fd = bpf_prog_load(static_cast<bpf_prog_type>(type), name.empty() ? nullptr : name.c_str(), license.c_str(),
                         reinterpret_cast<const bpf_insn*>(insns.Data()), insns.Length() / 8, &po);
  if (fd < 0) {
    int err = errno;
    log.resize(strlen(log.c_str()));
    ThrowError(env, "progLoad", "loading program " + name, err, &log);
  }
  return Napi::Number::New(env, fd);
}

}  // namespace

Napi::Object InitLinks(Napi::Env env, Napi::Object exports) {
  exports.Set("Attachment", Attachment::Define(env));
  exports.Set("progLoad", Napi::Function::New(env, ProgLoad));
  exports.Set("tcDetach", Napi::Function::New(env, TcDetach));
  return exports;
}

}  // namespace ig
