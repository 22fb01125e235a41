#include "poll_watch.h"

#include "errno_error.h"

namespace netctl {

static void OnClosed(uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); }

uv_poll_t* WatchReadable(Napi::Env env, int fd, void* data, uv_poll_cb onReadable) {
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  auto* poll = new uv_poll_t;
  int status = uv_poll_init(loop, poll, fd);
  if (status < 0) {
    delete poll;
    throw ErrnoError(env, -status, "uv_poll_init", "");
  }
  poll->data = data;
  uv_poll_start(poll, UV_READABLE, onReadable);
  return poll;
}

void StopWatching(uv_poll_t*& poll) {
  if (poll == nullptr) return;
  uv_poll_stop(poll);
  poll->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(poll), OnClosed);
  poll = nullptr;
}

}  // namespace netctl
