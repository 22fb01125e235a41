#pragma once
#include <napi.h>
#include <uv.h>

namespace netctl {

// The end of a process that need not be this one's child (a container's shim, detached under
// init): a pidfd watched on the event loop. The kernel makes a pidfd readable once its process
// has exited, and a pidfd keeps naming that process even if its PID is reused.
class ProcessExitWatch : public Napi::ObjectWrap<ProcessExitWatch> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ProcessExitWatch(const Napi::CallbackInfo& info);
  ~ProcessExitWatch() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  static void OnReadable(uv_poll_t* handle, int status, int events);
  void CloseNow();

  int pidfd_ = -1;
  uv_poll_t* poll_ = nullptr;  // owned until its close callback runs
  Napi::FunctionReference onExit_;
};

}  // namespace netctl
