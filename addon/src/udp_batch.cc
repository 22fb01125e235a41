#include "udp_batch.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "errno_error.h"
#include "js_call.h"
#include "poll_watch.h"

namespace netctl {

// Batches per wake-up before yielding the loop to other sockets (one sandbox must not starve the rest).
static constexpr int kRoundsPerWakeup = 4;

thread_local std::vector<uint8_t> UdpBatch::buffers_(UdpBatch::kBatch * UdpBatch::kDatagramBytes);
thread_local std::vector<mmsghdr> UdpBatch::headers_(UdpBatch::kBatch);
thread_local std::vector<iovec> UdpBatch::iovecs_(UdpBatch::kBatch);
thread_local std::vector<sockaddr_in> UdpBatch::peers_(UdpBatch::kBatch);

Napi::Function UdpBatch::Define(Napi::Env env) {
  return DefineClass(env, "UdpBatch",
                     {InstanceMethod<&UdpBatch::Start>("start"), InstanceMethod<&UdpBatch::Send>("send"),
                      InstanceMethod<&UdpBatch::Close>("close")});
}

UdpBatch::UdpBatch(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UdpBatch>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "UdpBatch(fd) takes a bound UDP socket's descriptor");
  fd_ = info[0].As<Napi::Number>().Int32Value();
  int flags = fcntl(fd_, F_GETFL);
  if (flags < 0 || fcntl(fd_, F_SETFL, flags | O_NONBLOCK) < 0) throw ErrnoError(env, errno, "fcntl", "");
}

UdpBatch::~UdpBatch() { CloseNow(); }

Napi::Value UdpBatch::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) throw ErrnoError(env, EBADF, "start", "socket is closed");
  if (started_ || info.Length() < 1 || !info[0].IsFunction()) throw Napi::TypeError::New(env, "start(onBatch) takes a function, once");
  onBatch_ = Napi::Persistent(info[0].As<Napi::Function>());
  poll_ = WatchReadable(env, fd_, this, OnReadable);
  started_ = true;
  Napi::ObjectWrap<UdpBatch>::Ref();
  return env.Undefined();
}

// Calls onBatch(data, ends): the batch's datagrams in one buffer (one allocation per batch, not
// two per datagram), each as the sender's IPv4 address and port (6 bytes, as send() takes them
// back) then the message, ending at ends[i]. A datagram larger than a DNS message may be is dropped.
void UdpBatch::OnReadable(uv_poll_t* handle, int status, int /*events*/) {
  auto* self = static_cast<UdpBatch*>(handle->data);
  if (self == nullptr || status < 0) return;
  Napi::Env env = self->Env();
  for (int round = 0; round < kRoundsPerWakeup && self->fd_ >= 0; round++) {
    for (unsigned i = 0; i < kBatch; i++) {
      iovecs_[i] = {buffers_.data() + i * kDatagramBytes, kDatagramBytes};
      std::memset(&headers_[i], 0, sizeof(mmsghdr));
      headers_[i].msg_hdr.msg_iov = &iovecs_[i];
      headers_[i].msg_hdr.msg_iovlen = 1;
      headers_[i].msg_hdr.msg_name = &peers_[i];
      headers_[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    }
    int received = recvmmsg(self->fd_, headers_.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (received <= 0) return;
    auto kept = [&](int i) { return (headers_[i].msg_hdr.msg_flags & MSG_TRUNC) == 0; };
    size_t total = 0;
    for (int i = 0; i < received; i++) {
      if (kept(i)) total += kPeerBytes + headers_[i].msg_len;
    }
    if (total > 0) {
      Napi::HandleScope scope(env);
      Napi::Buffer<uint8_t> data = Napi::Buffer<uint8_t>::New(env, total);
      Napi::Array ends = Napi::Array::New(env);
      uint8_t* at = data.Data();
      uint32_t count = 0;
      for (int i = 0; i < received; i++) {
        if (!kept(i)) continue;
        std::memcpy(at, &peers_[i].sin_addr.s_addr, 4);
        std::memcpy(at + 4, &peers_[i].sin_port, 2);
        std::memcpy(at + kPeerBytes, buffers_.data() + static_cast<size_t>(i) * kDatagramBytes, headers_[i].msg_len);
        at += kPeerBytes + headers_[i].msg_len;
        ends.Set(count++, Napi::Number::New(env, static_cast<double>(at - data.Data())));
      }
      CallJavaScript("a UDP batch callback", [&] { self->onBatch_.MakeCallback(env.Global(), {data, ends}); });
    }
    if (static_cast<unsigned>(received) < kBatch) return;
  }
}

// send(replies, peers): one sendmmsg; returns how many went out (a full send buffer drops the
// rest, as a busy resolver drops queries).
Napi::Value UdpBatch::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) return Napi::Number::New(env, 0);
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsArray()) throw Napi::TypeError::New(env, "send(replies, peers) takes two arrays");
  Napi::Array replies = info[0].As<Napi::Array>();
  Napi::Array peers = info[1].As<Napi::Array>();
  uint32_t total = replies.Length();
  std::vector<mmsghdr> headers(total);
  std::vector<iovec> iovecs(total);
  std::vector<sockaddr_in> addresses(total);
  for (uint32_t i = 0; i < total; i++) {
    Napi::Buffer<uint8_t> reply = replies.Get(i).As<Napi::Buffer<uint8_t>>();
    Napi::Buffer<uint8_t> peer = peers.Get(i).As<Napi::Buffer<uint8_t>>();
    if (peer.Length() != kPeerBytes) throw Napi::TypeError::New(env, "a peer is the 6 bytes onBatch gave");
    addresses[i] = {};
    addresses[i].sin_family = AF_INET;
    std::memcpy(&addresses[i].sin_addr.s_addr, peer.Data(), 4);
    std::memcpy(&addresses[i].sin_port, peer.Data() + 4, 2);
    iovecs[i] = {reply.Data(), reply.Length()};
    std::memset(&headers[i], 0, sizeof(mmsghdr));
    headers[i].msg_hdr.msg_iov = &iovecs[i];
    headers[i].msg_hdr.msg_iovlen = 1;
    headers[i].msg_hdr.msg_name = &addresses[i];
    headers[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
  }
  uint32_t sent = 0;
  while (sent < total) {
    int n = sendmmsg(fd_, headers.data() + sent, total - sent, MSG_DONTWAIT);
    if (n <= 0) break;
    sent += static_cast<uint32_t>(n);
  }
  return Napi::Number::New(env, sent);
}

Napi::Value UdpBatch::Close(const Napi::CallbackInfo& info) {
  bool wasStarted = started_;
  CloseNow();
  if (wasStarted) Napi::ObjectWrap<UdpBatch>::Unref();
  return info.Env().Undefined();
}

void UdpBatch::CloseNow() {
  StopWatching(poll_);
  started_ = false;
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  onBatch_.Reset();
}

}  // namespace netctl
