// Named network namespaces, kept alive by bind mounts (the scheme `ip netns` uses, so test
// tools and netctl see each other's namespaces), and sockets opened inside a namespace.
#include "netns.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "errno_error.h"

namespace netctl {

static const char kSelfNetns[] = "/proc/thread-self/ns/net";

NetnsSwitch::NetnsSwitch(const char* path) {
  if (path == nullptr || path[0] == '\0') return;
  original_ = open(kSelfNetns, O_RDONLY | O_CLOEXEC);
  if (original_ < 0) {
    error_ = errno;
    syscall_ = "open";
    return;
  }
  int target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    error_ = errno;
    syscall_ = "open";
    return;
  }
  if (setns(target, CLONE_NEWNET) < 0) {
    error_ = errno;
    syscall_ = "setns";
  } else {
    switched_ = true;
  }
  close(target);
}

NetnsSwitch::~NetnsSwitch() {
  // Failing to return would leave the event loop thread in a foreign namespace: every later
  // socket would be opened there. There is no safe way to continue, so abort loudly.
  if (switched_ && setns(original_, CLONE_NEWNET) < 0) {
    perror("netctl: setns back to the original network namespace failed");
    abort();
  }
  if (original_ >= 0) close(original_);
}

static std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info.Length() <= index || !info[index].IsString()) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
  }
  return info[index].As<Napi::String>().Utf8Value();
}

static Napi::Value PrepareNetnsDir(const Napi::CallbackInfo& info) {
  std::string dir = StringArg(info, 0, "dir");
  // First try to make it shared; EINVAL means it is not a mount point yet, so bind it onto
  // itself first. Shared propagation lets namespaces mounted later appear in other mount namespaces.
  if (mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) == 0) return info.Env().Undefined();
  if (errno != EINVAL) throw ErrnoError(info.Env(), errno, "mount", dir);
  if (mount(dir.c_str(), dir.c_str(), "none", MS_BIND | MS_REC, nullptr) < 0) {
    throw ErrnoError(info.Env(), errno, "mount", dir);
  }
  if (mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) < 0) {
    throw ErrnoError(info.Env(), errno, "mount", dir);
  }
  return info.Env().Undefined();
}

static Napi::Value CreateNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "nsPath");
  int file = open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (file < 0) throw ErrnoError(env, errno, "open", path);
  close(file);

  int original = open(kSelfNetns, O_RDONLY | O_CLOEXEC);
  if (original < 0) {
    int err = errno;
    unlink(path.c_str());
    throw ErrnoError(env, err, "open", kSelfNetns);
  }
  int err = 0;
  const char* failed = "";
  if (unshare(CLONE_NEWNET) < 0) {
    err = errno;
    failed = "unshare";
  } else {
    if (mount(kSelfNetns, path.c_str(), "none", MS_BIND, nullptr) < 0) {
      err = errno;
      failed = "mount";
    }
    if (setns(original, CLONE_NEWNET) < 0) {
      perror("netctl: setns back to the original network namespace failed");
      abort();
    }
  }
  close(original);
  if (err != 0) {
    unlink(path.c_str());
    throw ErrnoError(env, err, failed, path);
  }
  return env.Undefined();
}

static Napi::Value DeleteNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "nsPath");
  // MNT_DETACH: the namespace lives on while a process or socket still holds it, as the kernel
  // intends; only the name goes now.
  if (umount2(path.c_str(), MNT_DETACH) < 0 && errno != EINVAL) {
    throw ErrnoError(env, errno, "umount2", path);
  }
  if (unlink(path.c_str()) < 0) throw ErrnoError(env, errno, "unlink", path);
  return env.Undefined();
}

static Napi::Value CurrentNetnsPath(const Napi::CallbackInfo& info) {
  std::string path = "/proc/" + std::to_string(getpid()) + "/task/" + std::to_string(syscall(SYS_gettid)) + "/ns/net";
  return Napi::String::New(info.Env(), path);
}

static Napi::Value NetnsInode(const Napi::CallbackInfo& info) {
  std::string path = StringArg(info, 0, "nsPath");
  struct stat st;
  if (stat(path.c_str(), &st) < 0) throw ErrnoError(info.Env(), errno, "stat", path);
  return Napi::Number::New(info.Env(), static_cast<double>(st.st_ino));
}

static Napi::Value SocketInNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "nsPath");
  std::string kind = StringArg(info, 1, "kind");
  std::string address = StringArg(info, 2, "address");
  if (info.Length() < 4 || !info[3].IsNumber()) throw Napi::TypeError::New(env, "port must be a number");
  int port = info[3].As<Napi::Number>().Int32Value();
  if (port < 0 || port > 65535) throw Napi::RangeError::New(env, "port must be between 0 and 65535");

  int family;
  int type;
  if (kind == "udp4" || kind == "tcp4") family = AF_INET;
  else if (kind == "udp6" || kind == "tcp6") family = AF_INET6;
  else throw Napi::TypeError::New(env, "kind must be one of udp4, udp6, tcp4, tcp6");
  type = kind[0] == 'u' ? SOCK_DGRAM : SOCK_STREAM;

  sockaddr_storage storage;
  std::memset(&storage, 0, sizeof storage);
  socklen_t length;
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, address.c_str(), &sin->sin_addr) != 1) {
      throw Napi::TypeError::New(env, "'" + address + "' is not an IPv4 address");
    }
    length = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, address.c_str(), &sin6->sin6_addr) != 1) {
      throw Napi::TypeError::New(env, "'" + address + "' is not an IPv6 address");
    }
    length = sizeof(sockaddr_in6);
  }

  int fd = -1;
  int err = 0;
  const char* failed = "";
  {
    NetnsSwitch inside(path.c_str());
    if (inside.error() != 0) throw ErrnoError(env, inside.error(), inside.failedSyscall(), path);
    // CLOEXEC keeps it out of processes we launch later; Node adopts and owns the descriptor.
    fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      err = errno;
      failed = "socket";
    } else {
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
      if (bind(fd, reinterpret_cast<sockaddr*>(&storage), length) < 0) {
        err = errno;
        failed = "bind";
        close(fd);
        fd = -1;
      }
    }
  }
  if (err != 0) throw ErrnoError(env, err, failed, address + ":" + std::to_string(port) + " in " + path);
  return Napi::Number::New(env, fd);
}

void InitNetns(Napi::Env env, Napi::Object exports) {
  exports.Set("prepareNetnsDir", Napi::Function::New(env, PrepareNetnsDir));
  exports.Set("createNetns", Napi::Function::New(env, CreateNetns));
  exports.Set("deleteNetns", Napi::Function::New(env, DeleteNetns));
  exports.Set("currentNetnsPath", Napi::Function::New(env, CurrentNetnsPath));
  exports.Set("netnsInode", Napi::Function::New(env, NetnsInode));
  exports.Set("socketInNetns", Napi::Function::New(env, SocketInNetns));
}

}  // namespace netctl
