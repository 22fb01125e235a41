// netctl's native addon: only the syscalls Node cannot make itself (see src/native/addon.ts).
#include <malloc.h>
#include <string>
#include <tuple>
#include <napi.h>
#include <sys/resource.h>

#include <cerrno>

#include "errno_error.h"
#include "netlink_socket.h"
#include "netns.h"
#include "process_watch.h"
#include "spawn.h"
#include "udp_batch.h"

namespace netctl {

static Napi::FunctionReference* netlinkSocketClass = nullptr;

static Napi::Value OpenNetlink(const Napi::CallbackInfo& info) {
  std::vector<napi_value> args(info.Length());
  for (size_t i = 0; i < info.Length(); i++) args[i] = info[i];
  return netlinkSocketClass->New(args);
}

// glibc gives each thread that allocates an arena of its own (up to 8 per core); a daemon whose
// thread pool has 32 threads keeps many mostly empty arenas resident. glibc also raises its mmap
// and trim thresholds as large blocks are freed, after which freed memory stays resident: fixed
// thresholds give the optimising compiler's scratch memory back. Called by the daemon only.
static Napi::Value LimitMallocRetention(const Napi::CallbackInfo& info) {
  const int arenas = info[0].As<Napi::Number>().Int32Value();
  const int threshold = info[1].As<Napi::Number>().Int32Value();
  for (const auto& [option, value, name] : {std::tuple{M_ARENA_MAX, arenas, "M_ARENA_MAX"}, std::tuple{M_MMAP_THRESHOLD, threshold, "M_MMAP_THRESHOLD"}, std::tuple{M_TRIM_THRESHOLD, threshold, "M_TRIM_THRESHOLD"}}) {
    if (mallopt(option, value) != 1) {
      Napi::Error::New(info.Env(), std::string("mallopt(") + name + ") failed").ThrowAsJavaScriptException();
      break;
    }
  }
  return info.Env().Undefined();
}

// Each sandbox holds descriptors (a netlink socket, DNS listeners); a shell's soft limit of 1,024
// would stop a daemon at a few hundred containers while the hard limit allows far more. Returns
// the soft limit now in force. Called by the daemon only.
static Napi::Value RaiseOpenFileLimit(const Napi::CallbackInfo& info) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) throw ErrnoError(info.Env(), errno, "getrlimit", "RLIMIT_NOFILE");
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised{limit.rlim_max, limit.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &raised) != 0) throw ErrnoError(info.Env(), errno, "setrlimit", "RLIMIT_NOFILE");
    limit = raised;
  }
  return Napi::Number::New(info.Env(), static_cast<double>(limit.rlim_cur));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Function socketClass = NetlinkSocket::Define(env);
  netlinkSocketClass = new Napi::FunctionReference(Napi::Persistent(socketClass));
  env.SetInstanceData(netlinkSocketClass);
  exports.Set("openNetlink", Napi::Function::New(env, OpenNetlink));
  exports.Set("limitMallocRetention", Napi::Function::New(env, LimitMallocRetention));
  exports.Set("raiseOpenFileLimit", Napi::Function::New(env, RaiseOpenFileLimit));
  InitNetns(env, exports);
  InitSpawn(env, exports);
  exports.Set("UdpBatch", UdpBatch::Define(env));
  exports.Set("ProcessExitWatch", ProcessExitWatch::Define(env));
  return exports;
}

}  // namespace netctl

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return netctl::Init(env, exports); }

NODE_API_MODULE(netctl_native, InitAddon)
