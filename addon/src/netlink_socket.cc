#include "netlink_socket.h"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "errno_error.h"
#include "js_call.h"
#include "poll_watch.h"
#include "netns.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace netctl {

// Dumps of many links arrive in datagrams of up to 32 KiB; NLM_F_DUMP replies may use larger
// skbs when the receive buffer is big, so leave generous room and detect truncation.
static constexpr size_t kDatagramCapacity = 256 * 1024;
// How many datagrams one event-loop wake-up hands to JavaScript, so a flood cannot starve the loop.
static constexpr int kDatagramsPerWakeup = 256;
static constexpr int kReceiveBufferBytes = 4 * 1024 * 1024;

// One receive buffer per thread, shared by every socket: datagrams are received on the
// JavaScript thread only, one at a time, each copied out before the next. A buffer per socket
// cost 256 KiB each, and the daemon keeps a socket in every sandbox.
static std::vector<uint8_t>& ReceiveBuffer() {
  static thread_local std::vector<uint8_t> buffer(kDatagramCapacity);
  return buffer;
}

Napi::Function NetlinkSocket::Define(Napi::Env env) {
  return DefineClass(env, "NetlinkSocket",
                     {
                         InstanceAccessor<&NetlinkSocket::PortId>("portId"),
                         InstanceMethod<&NetlinkSocket::Send>("send"),
                         InstanceMethod<&NetlinkSocket::SendOffloaded>("sendOffloaded"),
                         InstanceMethod<&NetlinkSocket::TryReceive>("tryReceive"),
                         InstanceMethod<&NetlinkSocket::Start>("start"),
                         InstanceMethod<&NetlinkSocket::Ref>("ref"),
                         InstanceMethod<&NetlinkSocket::Unref>("unref"),
                         InstanceMethod<&NetlinkSocket::Close>("close"),
                     });
}

// new NetlinkSocket(protocol, netnsPath | null, groups)
NetlinkSocket::NetlinkSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NetlinkSocket>(info) {
  Napi::Env env = info.Env();
  int protocol = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : NETLINK_ROUTE;
  std::string netns = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  uint32_t groups = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : 0;

  int err = 0;
  const char* failed = "";
  {
    // The socket belongs to the namespace it was created in for its whole life.
    NetnsSwitch inside(netns.c_str());
    if (inside.error() != 0) throw ErrnoError(env, inside.error(), inside.failedSyscall(), netns);
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
    if (fd_ < 0) {
      err = errno;
      failed = "socket";
    }
  }
  if (err != 0) throw ErrnoError(env, err, failed, netns);

  int size = kReceiveBufferBytes;
  // FORCE needs CAP_NET_ADMIN; fall back to the ordinary (capped) option when we lack it.
  if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) {
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  int one = 1;
  // Extended acks carry the kernel's own explanation of a rejected request; capped acks keep
  // error replies small by not echoing the whole request.
  setsockopt(fd_, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd_, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  setsockopt(fd_, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);

  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  local.nl_groups = groups;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
    int bindErr = errno;
    CloseNow();
    throw ErrnoError(env, bindErr, "bind", netns);
  }
  socklen_t length = sizeof local;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length) == 0) portId_ = local.nl_pid;
}

NetlinkSocket::~NetlinkSocket() { CloseNow(); }

Napi::Value NetlinkSocket::PortId(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), portId_); }

// Sends one datagram to the kernel (nl_pid 0); returns 0 or the errno.
static int SendToKernel(int fd, const uint8_t* data, size_t length) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = sendto(fd, data, length, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
  } while (sent < 0 && errno == EINTR);
  return sent < 0 ? errno : 0;
}

Napi::Value NetlinkSocket::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) throw ErrnoError(env, EBADF, "sendto", "netlink socket is closed");
  if (info.Length() < 1 || !info[0].IsBuffer()) throw Napi::TypeError::New(env, "datagram must be a Buffer");
  auto datagram = info[0].As<Napi::Buffer<uint8_t>>();
  int err = SendToKernel(fd_, datagram.Data(), datagram.Length());
  if (err != 0) throw ErrnoError(env, err, "sendto", "");
  return env.Undefined();
}

// rtnetlink executes a request inside sendto. Most requests take microseconds, but deleting
// a device waits for RCU grace periods (milliseconds): those are sent from the libuv thread
// pool so the event loop keeps running, and several can wait in the kernel at once.
class OffloadedSend : public Napi::AsyncWorker {
 public:
  OffloadedSend(Napi::Function& callback, int fd, const uint8_t* data, size_t length)
      : Napi::AsyncWorker(callback), fd_(fd), datagram_(data, data + length) {}

  void Execute() override { error_ = SendToKernel(fd_, datagram_.data(), datagram_.size()); }

  void OnOK() override {
    Napi::Env env = Env();
    CallJavaScript("a netlink send callback", [&] { Callback().Call({error_ != 0 ? ErrnoError(env, error_, "sendto", "").Value() : env.Null()}); });
  }

  // Reached only if Execute threw (it does not); the default would call the callback unguarded.
  void OnError(const Napi::Error& error) override {
    CallJavaScript("a netlink send callback", [&] { Callback().Call({error.Value()}); });
  }

 private:
  int fd_;
  std::vector<uint8_t> datagram_;
  int error_ = 0;
};

// sendOffloaded(datagram, callback(error | null)); the socket must stay open until the callback.
Napi::Value NetlinkSocket::SendOffloaded(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) throw ErrnoError(env, EBADF, "sendto", "netlink socket is closed");
  if (info.Length() < 2 || !info[0].IsBuffer() || !info[1].IsFunction()) {
    throw Napi::TypeError::New(env, "sendOffloaded(datagram, callback) takes a Buffer and a function");
  }
  auto datagram = info[0].As<Napi::Buffer<uint8_t>>();
  Napi::Function callback = info[1].As<Napi::Function>();
  auto* worker = new OffloadedSend(callback, fd_, datagram.Data(), datagram.Length());
  worker->Queue();
  return env.Undefined();
}

ssize_t NetlinkSocket::ReceiveOne() {
  for (;;) {
    std::vector<uint8_t>& buffer = ReceiveBuffer();
    ssize_t length = recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_TRUNC);
    if (length >= 0) {
      if (static_cast<size_t>(length) > buffer.size()) return -EMSGSIZE;
      return length;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return -errno;
  }
}

Napi::Value NetlinkSocket::TryReceive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) throw ErrnoError(env, EBADF, "recv", "netlink socket is closed");
  ssize_t length = ReceiveOne();
  if (length < 0) throw ErrnoError(env, static_cast<int>(-length), "recv", "");
  if (length == 0) return env.Null();
  return Napi::Buffer<uint8_t>::Copy(env, ReceiveBuffer().data(), static_cast<size_t>(length));
}

Napi::Value NetlinkSocket::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) throw ErrnoError(env, EBADF, "start", "netlink socket is closed");
  if (started_) throw Napi::Error::New(env, "netlink socket is already started");
  if (info.Length() < 2 || !info[0].IsFunction() || !info[1].IsFunction()) {
    throw Napi::TypeError::New(env, "start(onDatagrams, onError) takes two functions");
  }
  onDatagrams_ = Napi::Persistent(info[0].As<Napi::Function>());
  onError_ = Napi::Persistent(info[1].As<Napi::Function>());

  poll_ = WatchReadable(env, fd_, this, OnReadable);
  started_ = true;
  // While watched, the JavaScript object must outlive the poll handle that points at it.
  Napi::ObjectWrap<NetlinkSocket>::Ref();
  return env.Undefined();
}

void NetlinkSocket::OnReadable(uv_poll_t* handle, int status, int /*events*/) {
  auto* self = static_cast<NetlinkSocket*>(handle->data);
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  if (status < 0) {
    Napi::Error error = ErrnoError(env, -status, "uv_poll", "");
    CallJavaScript("a netlink error callback", [&] { self->onError_.MakeCallback(env.Global(), {error.Value()}); });
    return;
  }
  Napi::Array datagrams = Napi::Array::New(env);
  uint32_t count = 0;
  int failure = 0;
  while (count < kDatagramsPerWakeup && self->fd_ >= 0) {
    ssize_t length = self->ReceiveOne();
    if (length == 0) break;
    if (length < 0) {
      failure = static_cast<int>(-length);
      break;
    }
    datagrams.Set(count++, Napi::Buffer<uint8_t>::Copy(env, ReceiveBuffer().data(), static_cast<size_t>(length)));
  }
  if (count > 0) CallJavaScript("a netlink datagram callback", [&] { self->onDatagrams_.MakeCallback(env.Global(), {datagrams}); });
  // ENOBUFS means the kernel dropped messages (a multicast flood); the caller must resync.
  if (failure != 0 && self->fd_ >= 0) {
    Napi::Error error = ErrnoError(env, failure, "recv", "");
    CallJavaScript("a netlink error callback", [&] { self->onError_.MakeCallback(env.Global(), {error.Value()}); });
  }
}

Napi::Value NetlinkSocket::Ref(const Napi::CallbackInfo& info) {
  if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
  return info.Env().Undefined();
}

Napi::Value NetlinkSocket::Unref(const Napi::CallbackInfo& info) {
  if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  return info.Env().Undefined();
}

Napi::Value NetlinkSocket::Close(const Napi::CallbackInfo& info) {
  bool wasStarted = started_;
  CloseNow();
  if (wasStarted) Napi::ObjectWrap<NetlinkSocket>::Unref();
  return info.Env().Undefined();
}

void NetlinkSocket::CloseNow() {
  StopWatching(poll_);
  started_ = false;
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  onDatagrams_.Reset();
  onError_.Reset();
}

}  // namespace netctl
