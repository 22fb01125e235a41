#include "process_watch.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "errno_error.h"
#include "js_call.h"
#include "poll_watch.h"

namespace netctl {

Napi::Function ProcessExitWatch::Define(Napi::Env env) {
  return DefineClass(env, "ProcessExitWatch", {InstanceMethod<&ProcessExitWatch::Start>("start"), InstanceMethod<&ProcessExitWatch::Close>("close")});
}

// new ProcessExitWatch(pid): opens the pidfd at once, so the caller can check (by its start time)
// that the PID still names the process it means before watching. Throws ESRCH when it is gone.
ProcessExitWatch::ProcessExitWatch(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProcessExitWatch>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "ProcessExitWatch(pid) takes a process ID");
  const int pid = info[0].As<Napi::Number>().Int32Value();
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd_ < 0) throw ErrnoError(env, errno, "pidfd_open", std::to_string(pid));
}

ProcessExitWatch::~ProcessExitWatch() { CloseNow(); }

// start(onExit): onExit() is called once, on the event loop, when the process has exited.
Napi::Value ProcessExitWatch::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (pidfd_ < 0) throw ErrnoError(env, EBADF, "start", "the watch is closed");
  if (poll_ != nullptr || info.Length() < 1 || !info[0].IsFunction()) throw Napi::TypeError::New(env, "start(onExit) takes a function, once");
  onExit_ = Napi::Persistent(info[0].As<Napi::Function>());
  poll_ = WatchReadable(env, pidfd_, this, OnReadable);
  Napi::ObjectWrap<ProcessExitWatch>::Ref();
  return env.Undefined();
}

void ProcessExitWatch::OnReadable(uv_poll_t* handle, int /*status*/, int /*events*/) {
  auto* self = static_cast<ProcessExitWatch*>(handle->data);
  if (self == nullptr) return;
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  Napi::FunctionReference onExit = std::move(self->onExit_);
  self->CloseNow();
  CallJavaScript("a process exit callback", [&] { onExit.MakeCallback(env.Global(), {}); });
}

Napi::Value ProcessExitWatch::Close(const Napi::CallbackInfo& info) {
  CloseNow();
  return info.Env().Undefined();
}

void ProcessExitWatch::CloseNow() {
  const bool watching = poll_ != nullptr;
  StopWatching(poll_);
  if (pidfd_ >= 0) close(pidfd_);
  pidfd_ = -1;
  onExit_.Reset();
  if (watching) Napi::ObjectWrap<ProcessExitWatch>::Unref();
}

}  // namespace netctl
