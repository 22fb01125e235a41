// netctl's native addon: only the syscalls Node cannot make itself (see src/native/addon.ts).
#include <napi.h>

#include "netlink_socket.h"
#include "netns.h"

namespace netctl {

static Napi::FunctionReference* netlinkSocketClass = nullptr;

static Napi::Value OpenNetlink(const Napi::CallbackInfo& info) {
  std::vector<napi_value> args(info.Length());
  for (size_t i = 0; i < info.Length(); i++) args[i] = info[i];
  return netlinkSocketClass->New(args);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Function socketClass = NetlinkSocket::Define(env);
  netlinkSocketClass = new Napi::FunctionReference(Napi::Persistent(socketClass));
  env.SetInstanceData(netlinkSocketClass);
  exports.Set("openNetlink", Napi::Function::New(env, OpenNetlink));
  InitNetns(env, exports);
  return exports;
}

}  // namespace netctl

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return netctl::Init(env, exports); }

NODE_API_MODULE(netctl_native, InitAddon)
