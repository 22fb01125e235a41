#pragma once
#include <napi.h>
#include <uv.h>


namespace netctl {

// A raw netlink socket watched by the Node event loop through uv_poll, so replies arrive
// without blocking the loop and without a thread per socket.
class NetlinkSocket : public Napi::ObjectWrap<NetlinkSocket> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit NetlinkSocket(const Napi::CallbackInfo& info);
  ~NetlinkSocket() override;

 private:
  Napi::Value PortId(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value SendOffloaded(const Napi::CallbackInfo& info);
  Napi::Value TryReceive(const Napi::CallbackInfo& info);
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Unref(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  static void OnReadable(uv_poll_t* handle, int status, int events);
  // Receives one datagram into the thread's receive buffer; returns its length, 0 if none is queued, or -errno.
  ssize_t ReceiveOne();
  void CloseNow();

  int fd_ = -1;
  uint32_t portId_ = 0;
  uv_poll_t* poll_ = nullptr;  // owned until its close callback runs
  bool started_ = false;
  Napi::FunctionReference onDatagrams_;
  Napi::FunctionReference onError_;
};

}  // namespace netctl
