// Starting a process the way Go and Rust runtimes do, for the benchmarks that time other tools.
// libuv (child_process) forks the whole Node process: fork copies the caller's page tables, so its
// cost grows with the caller's size, and a tool timed that way is charged milliseconds its real
// callers never pay. posix_spawn, in glibc a clone(CLONE_VM | CLONE_VFORK), shares the caller's
// memory until the child calls exec, so the start costs the same from a large process as from a
// small one.
#include "spawn.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <string>
#include <vector>

#include "errno_error.h"

namespace netctl {

// Owns what posix_spawn is given, so a throw on the way frees it.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  bool hasActions = false;
  bool hasAttributes = false;
  ~SpawnSetup() {
    if (hasActions) posix_spawn_file_actions_destroy(&actions);
    if (hasAttributes) posix_spawnattr_destroy(&attributes);
  }
};

// Strings handed to exec: an embedded NUL would silently cut one short, so it is refused.
static std::vector<std::string> StringsArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const std::string message = std::string(name) + " must be an array of strings without NUL characters";
  if (info.Length() <= index || !info[index].IsArray()) throw Napi::TypeError::New(info.Env(), message);
  Napi::Array array = info[index].As<Napi::Array>();
  std::vector<std::string> strings;
  strings.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value item = array.Get(i);
    if (!item.IsString()) throw Napi::TypeError::New(info.Env(), message);
    strings.push_back(item.As<Napi::String>().Utf8Value());
    if (strings.back().find('\0') != std::string::npos) throw Napi::TypeError::New(info.Env(), message);
  }
  return strings;
}

static int FdArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const double value = info.Length() > index && info[index].IsNumber() ? info[index].As<Napi::Number>().DoubleValue() : -1;
  if (!(value >= 0 && value <= INT_MAX && std::floor(value) == value)) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a file descriptor (an integer >= 0)");
  }
  return static_cast<int>(value);
}

// The argv/envp exec wants: pointers into `strings`, ending in a null pointer.
static std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// spawnAndWait(file, argv, stdinFd, stdoutFd, stderrFd, env?): blocks the calling thread until
// the child exits, on purpose: a benchmark times the call and does nothing else meanwhile.
static Napi::Value SpawnAndWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "file must be a string (a path: PATH is not searched)");
  const std::string file = info[0].As<Napi::String>().Utf8Value();
  std::vector<std::string> argv = StringsArg(info, 1, "argv");
  if (argv.empty()) throw Napi::TypeError::New(env, "argv must hold at least argv[0]");
  const int fds[3] = {FdArg(info, 2, "stdinFd"), FdArg(info, 3, "stdoutFd"), FdArg(info, 4, "stderrFd")};
  const bool ownEnvironment = info.Length() > 5 && !info[5].IsUndefined();
  std::vector<std::string> environment = ownEnvironment ? StringsArg(info, 5, "env") : std::vector<std::string>();
  std::vector<char*> argvPointers = CStrings(argv);
  std::vector<char*> envPointers = CStrings(environment);

  SpawnSetup setup;
  int err = posix_spawn_file_actions_init(&setup.actions);
  if (err != 0) throw ErrnoError(env, err, "posix_spawn_file_actions_init", file);
  setup.hasActions = true;
  // dup2 clears close-on-exec on the copy: the child keeps these three and, since Node and libuv
  // open everything close-on-exec, nothing else of ours.
  for (int target = 0; target < 3; target++) {
    err = posix_spawn_file_actions_adddup2(&setup.actions, fds[target], target);
    if (err != 0) throw ErrnoError(env, err, "posix_spawn_file_actions_adddup2", file);
  }
  err = posix_spawnattr_init(&setup.attributes);
  if (err != 0) throw ErrnoError(env, err, "posix_spawnattr_init", file);
  setup.hasAttributes = true;
  // An ignored signal stays ignored across exec, and Node ignores SIGPIPE: the child would not die
  // writing to a closed pipe as it does under its real callers. Default dispositions and an empty
  // mask, as libuv gives its children.
  sigset_t all;
  sigset_t none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&setup.attributes, &all);
  posix_spawnattr_setsigmask(&setup.attributes, &none);
  posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  pid_t pid;
  // posix_spawn returns the error (an exec failure such as ENOENT included) rather than setting errno.
  err = posix_spawn(&pid, file.c_str(), &setup.actions, &setup.attributes, argvPointers.data(), ownEnvironment ? envPointers.data() : environ);
  if (err != 0) throw ErrnoError(env, err, "posix_spawn", file);

  int status;
  // A signal handled without SA_RESTART ends the wait early; the child is still running.
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw ErrnoError(env, errno, "waitpid", file);
  }
  // The shell's convention, so one number tells an exit code from a signal.
  const int result = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  return Napi::Number::New(env, result);
}

void InitSpawn(Napi::Env env, Napi::Object exports) { exports.Set("spawnAndWait", Napi::Function::New(env, SpawnAndWait)); }

}  // namespace netctl
