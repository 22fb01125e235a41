#pragma once
#include <napi.h>
#include <uv.h>

namespace netctl {

// Watching a descriptor on Node's event loop, for the sockets the addon serves (netlink, UDP).
// Starts watching `fd` for reading; `onReadable` finds `data` in handle->data. Throws on failure.
uv_poll_t* WatchReadable(Napi::Env env, int fd, void* data, uv_poll_cb onReadable);

// Stops watching; libuv frees the handle once it is done with it. Sets `poll` to null.
void StopWatching(uv_poll_t*& poll);

}  // namespace netctl
