#pragma once
#include <napi.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <uv.h>

#include <vector>

namespace netctl {

// A bound IPv4 UDP socket served in batches: each wake-up of the event loop receives up to 64
// datagrams with one recvmmsg, and replies go out with one sendmmsg. For the embedded DNS, whose
// cost per query is otherwise mostly one receive and one send system call through Node's dgram.
class UdpBatch : public Napi::ObjectWrap<UdpBatch> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit UdpBatch(const Napi::CallbackInfo& info);
  ~UdpBatch() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  static void OnReadable(uv_poll_t* handle, int status, int events);
  void CloseNow();

  static constexpr unsigned kBatch = 64;
  static constexpr size_t kDatagramBytes = 4096;
  static constexpr size_t kPeerBytes = 6;  // an IPv4 address and a port, as sent

  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;  // owned until its close callback runs
  bool started_ = false;
  Napi::FunctionReference onBatch_;
  // One set of receive buffers for every socket of a thread: callbacks run one at a time on its loop's
  // thread, and a thousand sandboxes must not hold 256 KB each.
  static thread_local std::vector<uint8_t> buffers_;
  static thread_local std::vector<mmsghdr> headers_;
  static thread_local std::vector<iovec> iovecs_;
  static thread_local std::vector<sockaddr_in> peers_;
};

}  // namespace netctl
