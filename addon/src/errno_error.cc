#include "errno_error.h"

#include <cerrno>
#include <cstring>

namespace netctl {

const char* ErrnoName(int err) {
  switch (err) {
#define N(e) \
  case e:    \
    return #e;
    N(EPERM) N(ENOENT) N(ESRCH) N(EINTR) N(EIO) N(ENXIO) N(E2BIG) N(EBADF) N(EAGAIN) N(ENOMEM)
    N(EACCES) N(EFAULT) N(EBUSY) N(EEXIST) N(EXDEV) N(ENODEV) N(ENOTDIR) N(EISDIR) N(EINVAL)
    N(ENFILE) N(EMFILE) N(ENOSPC) N(EROFS) N(EMLINK) N(ERANGE) N(ENAMETOOLONG) N(ENOSYS)
    N(ENOTEMPTY) N(ENOTSOCK) N(EMSGSIZE) N(EPROTONOSUPPORT) N(EOPNOTSUPP) N(EAFNOSUPPORT)
    N(EADDRINUSE) N(EADDRNOTAVAIL) N(ENETDOWN) N(ENETUNREACH) N(ENOBUFS) N(ETIMEDOUT)
    N(ECONNREFUSED) N(EHOSTUNREACH) N(EALREADY) N(EINPROGRESS) N(ENODATA)
    N(EPROTO) N(ENOLINK) N(ENOTCONN)
#undef N
    default:
      return "EUNKNOWN";
  }
}

Napi::Error ErrnoError(Napi::Env env, int err, const std::string& syscall, const std::string& detail) {
  std::string message = std::string(ErrnoName(err)) + ": " + std::strerror(err) + ", " + syscall;
  if (!detail.empty()) message += " '" + detail + "'";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  if (!detail.empty()) error.Set("path", Napi::String::New(env, detail));
  return error;
}

}  // namespace netctl
