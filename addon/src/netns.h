#pragma once
#include <napi.h>

namespace netctl {

// RAII: runs a block inside another network namespace on the calling thread and always
// returns the thread to the namespace it came from (setns affects only the calling thread).
class NetnsSwitch {
 public:
  // Opens `path` (nullptr or empty: stay where we are). Returns 0 or an errno via error().
  explicit NetnsSwitch(const char* path);
  ~NetnsSwitch();
  int error() const { return error_; }
  const char* failedSyscall() const { return syscall_; }

 private:
  int original_ = -1;
  int error_ = 0;
  const char* syscall_ = "";
  bool switched_ = false;
};

void InitNetns(Napi::Env env, Napi::Object exports);

}  // namespace netctl
