// Starting processes the way Go and Rust runtimes do: for the benchmarks that time other tools
// (spawnAndWait), and for the processes the daemon starts: iptables and container shims
// (runProcess), commands exec'd in containers (spawnStreaming, reapIfExited).
// libuv (child_process) forks the whole Node process: fork copies the caller's page tables, so its
// cost grows with the caller's size, and a tool started that way is charged milliseconds its real
// callers never pay. posix_spawn, in glibc a clone(CLONE_VM | CLONE_VFORK), shares the caller's
// memory until the child calls exec, so the start costs the same from a large process as from a
// small one.
#include "spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "errno_error.h"
#include "js_call.h"

namespace netctl {

// A failed call as plain numbers: a pool thread must not touch JavaScript, so the ErrnoError is
// built later, on the main thread.
struct Failure {
  int number = 0;
  const char* syscall = "";
};

// Owns what posix_spawn is given, so every way out frees it.
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

// The argv/envp exec wants: pointers into `strings`, ending in a null pointer.
static std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Starts `file` with fds[0..2] as its 0, 1 and 2. Safe on any thread: it touches no JavaScript.
static Failure StartChild(const std::string& file, std::vector<std::string>& argv, std::vector<std::string>& environment, const int fds[3], pid_t* pid) {
  std::vector<char*> argvPointers = CStrings(argv);
  std::vector<char*> envPointers = CStrings(environment);
  SpawnSetup setup;
  int err = posix_spawn_file_actions_init(&setup.actions);
  if (err != 0) return {err, "posix_spawn_file_actions_init"};
  setup.hasActions = true;
  // dup2 clears close-on-exec on the copy: the child keeps these three and, since Node, libuv and
  // runProcess open everything close-on-exec, nothing else of ours.
  for (int target = 0; target < 3; target++) {
    err = posix_spawn_file_actions_adddup2(&setup.actions, fds[target], target);
    if (err != 0) return {err, "posix_spawn_file_actions_adddup2"};
  }
  err = posix_spawnattr_init(&setup.attributes);
  if (err != 0) return {err, "posix_spawnattr_init"};
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
  // posix_spawn returns the error (an exec failure such as ENOENT included) rather than setting errno.
  err = posix_spawn(pid, file.c_str(), &setup.actions, &setup.attributes, argvPointers.data(), envPointers.data());
  if (err != 0) return {err, "posix_spawn"};
  return {};
}

// A wait status as one number: the exit code, or 128 + the signal that killed the child (the
// shell's convention, so one number tells an exit code from a signal).
static int ExitCode(int status) {
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

// Reaps the child; `result` is its ExitCode.
static Failure WaitChild(pid_t pid, int* result) {
  int status;
  // A signal handled without SA_RESTART ends the wait early; the child is still running.
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return {errno, "waitpid"};
  }
  *result = ExitCode(status);
  return {};
}

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

static std::string FileArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), "file must be a string (a path: PATH is not searched)");
  return info[0].As<Napi::String>().Utf8Value();
}

static std::vector<std::string> ArgvArg(const Napi::CallbackInfo& info) {
  std::vector<std::string> argv = StringsArg(info, 1, "argv");
  if (argv.empty()) throw Napi::TypeError::New(info.Env(), "argv must hold at least argv[0]");
  return argv;
}

static int FdArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const double value = info.Length() > index && info[index].IsNumber() ? info[index].As<Napi::Number>().DoubleValue() : -1;
  if (!(value >= 0 && value <= INT_MAX && std::floor(value) == value)) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a file descriptor (an integer >= 0)");
  }
  return static_cast<int>(value);
}

// The child's environment: the entries given at `index`, or ours as they are now. Copied on the
// main thread: process.env writes (setenv) there may move environ's array while a pool thread
// would read it.
static std::vector<std::string> EnvironmentArg(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() > index && !info[index].IsUndefined()) return StringsArg(info, index, "env");
  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; entry++) environment.emplace_back(*entry);
  return environment;
}

// spawnAndWait(file, argv, stdinFd, stdoutFd, stderrFd, env?): blocks the calling thread until
// the child exits, on purpose: a benchmark times the call and does nothing else meanwhile.
static Napi::Value SpawnAndWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string file = FileArg(info);
  std::vector<std::string> argv = ArgvArg(info);
  const int fds[3] = {FdArg(info, 2, "stdinFd"), FdArg(info, 3, "stdoutFd"), FdArg(info, 4, "stderrFd")};
  std::vector<std::string> environment = EnvironmentArg(info, 5);
  pid_t pid;
  Failure failure = StartChild(file, argv, environment, fds, &pid);
  if (failure.number == 0) {
    int result;
    failure = WaitChild(pid, &result);
    if (failure.number == 0) return Napi::Number::New(env, result);
  }
  throw ErrnoError(env, failure.number, failure.syscall, file);
}

// A descriptor closed on every way out, error paths included.
class Descriptor {
 public:
  Descriptor() = default;
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() { Close(); }
  void Reset(int fd) {
    Close();
    fd_ = fd;
  }
  int Get() const { return fd_; }
  bool IsOpen() const { return fd_ >= 0; }
  // Hands the descriptor over: it is no longer closed here.
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// Close-on-exec from the start: a process another thread forks and execs meanwhile (libuv's
// child_process, another runProcess) inherits none of our ends, which would hold a pipe open.
static Failure OpenPipe(Descriptor& readEnd, Descriptor& writeEnd) {
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) return {errno, "pipe2"};
  readEnd.Reset(ends[0]);
  writeEnd.Reset(ends[1]);
  return {};
}

// When a run must be over: poll timeouts count down to it. No deadline: wait as long as it takes.
class Deadline {
 public:
  explicit Deadline(int64_t timeoutMs) : at_(timeoutMs > 0 ? Now() + timeoutMs : -1) {}
  // For poll: the ms left (0 once passed), or -1 without a deadline.
  int Remaining() const {
    if (at_ < 0) return -1;
    const int64_t left = at_ - Now();
    return left <= 0 ? 0 : static_cast<int>(left < INT_MAX ? left : INT_MAX);
  }

 private:
  static int64_t Now() {
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
  }
  int64_t at_;
};

// A started child that is reaped on every way out: waited for by Wait(), or, when the run is
// abandoned on an error or its deadline, killed and then reaped, so that neither a zombie nor a
// pool thread waiting on a child no one talks to any more is left behind.
class Child {
 public:
  // The pidfd lets Wait() wait with a deadline; without one (kernels before 5.3) it waits as long
  // as it takes.
  explicit Child(pid_t pid) : pid_(pid), pidfd_(static_cast<int>(syscall(SYS_pidfd_open, pid, 0))) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pidfd_ >= 0) close(pidfd_);
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int ignored;
    WaitChild(pid_, &ignored);
  }
  Failure Wait(const Deadline& deadline, int* result) {
    if (pidfd_ >= 0) {
      pollfd exited = {pidfd_, POLLIN, 0};
      int ready;
      while ((ready = poll(&exited, 1, deadline.Remaining())) < 0 && errno == EINTR) {
      }
      if (ready < 0) return {errno, "poll"};
      if (ready == 0) return {ETIMEDOUT, "waitpid"};
    }
    const Failure failure = WaitChild(pid_, result);
    pid_ = -1;
    return failure;
  }

 private:
  pid_t pid_;
  int pidfd_;
};

// A start (and for runProcess, the whole run) of `file` on a pool thread; the callback gets an
// errno error built on the main thread, or what Result() makes of the run.
class SpawnWorker : public Napi::AsyncWorker {
 public:
  SpawnWorker(Napi::Function& callback, std::string file, std::vector<std::string> argv, std::vector<std::string> environment)
      : Napi::AsyncWorker(callback), file_(std::move(file)), argv_(std::move(argv)), environment_(std::move(environment)) {}

  void OnOK() override {
    Napi::Env env = Env();
    CallJavaScript("a process's callback", [&] {
      if (failure_.number != 0) {
        Callback().Call({ErrnoError(env, failure_.number, failure_.syscall, file_).Value()});
      } else {
        Callback().Call({env.Null(), Result(env)});
      }
    });
  }

  // Execute threw (std::bad_alloc past RunProcess's own catch); the default would call the callback unguarded.
  void OnError(const Napi::Error& error) override {
    CallJavaScript("a process's callback", [&] { Callback().Call({error.Value()}); });
  }

 protected:
  virtual Napi::Object Result(Napi::Env env) = 0;

  std::string file_;
  std::vector<std::string> argv_;
  std::vector<std::string> environment_;
  Failure failure_;
};

// runProcess(file, argv, input, env, timeoutMs, callback(error, {status, stdout, stderr})): the
// daemon's way to run a tool without forking its address space (see the top of this file) and
// without blocking its event loop: everything that waits (the start, the pipes, the exit) runs on
// a libuv pool thread, for at most timeoutMs (0: no limit), after which the child is killed and
// the error is ETIMEDOUT: a hung tool must not hold a pool thread, or its caller, for ever.
//
// SIGCHLD: libuv's handler (uv__wait_children, src/unix/process.c) calls waitpid on the pid of
// each process it started itself, never waitpid(-1): it does not reap our child, and our waitpid
// on a pool thread takes nothing of its.
class RunProcess : public SpawnWorker {
 public:
  RunProcess(Napi::Function& callback, std::string file, std::vector<std::string> argv, std::vector<std::string> environment, std::vector<uint8_t> input, int64_t timeoutMs)
      : SpawnWorker(callback, std::move(file), std::move(argv), std::move(environment)), input_(std::move(input)), timeoutMs_(timeoutMs) {}

  void Execute() override {
    try {
      failure_ = Run();
    } catch (const std::bad_alloc&) {
      // Output too large to hold; the descriptors and the child went with the stack.
      failure_ = {ENOMEM, "read"};
    }
  }

  Napi::Object Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("status", Napi::Number::New(env, status_));
    result.Set("stdout", Napi::Buffer<char>::Copy(env, stdout_.data(), stdout_.size()));
    result.Set("stderr", Napi::Buffer<char>::Copy(env, stderr_.data(), stderr_.size()));
    return result;
  }

 private:
  Failure Run() {
    const Deadline deadline(timeoutMs_);
    // [0]: the child's stdin, [1] stdout, [2] stderr; each the child's end and ours.
    Descriptor theirs[3];
    Descriptor ours[3];
    Failure failure = OpenPipe(theirs[0], ours[0]);
    if (failure.number == 0) failure = OpenPipe(ours[1], theirs[1]);
    if (failure.number == 0) failure = OpenPipe(ours[2], theirs[2]);
    if (failure.number != 0) return failure;
    // Our end of stdin is fed as poll allows, never waited on: the child may be blocked writing.
    const int flags = fcntl(ours[0].Get(), F_GETFL);
    if (flags < 0 || fcntl(ours[0].Get(), F_SETFL, flags | O_NONBLOCK) != 0) return {errno, "fcntl"};

    const int fds[3] = {theirs[0].Get(), theirs[1].Get(), theirs[2].Get()};
    pid_t pid;
    failure = StartChild(file_, argv_, environment_, fds, &pid);
    if (failure.number != 0) return failure;
    Child child(pid);
    // Holding the child's ends would keep its stdout and stderr from ever reaching end of file.
    for (Descriptor& end : theirs) end.Close();

    failure = Exchange(ours[0], ours[1], ours[2], deadline);
    if (failure.number != 0) return failure;
    return child.Wait(deadline, &status_);
  }

  // Feeds stdin while draining stdout and stderr, all three in one poll: a child that fills one
  // pipe while we wait on another would wait for us as we wait for it.
  Failure Exchange(Descriptor& in, Descriptor& out, Descriptor& err, const Deadline& deadline) {
    size_t written = 0;
    if (input_.empty()) in.Close();
    Descriptor* ends[3] = {&in, &out, &err};
    std::string* sinks[3] = {nullptr, &stdout_, &stderr_};
    char buffer[65536];
    for (;;) {
      pollfd polled[3];
      int which[3];
      nfds_t count = 0;
      for (int i = 0; i < 3; i++) {
        if (!ends[i]->IsOpen()) continue;
        polled[count] = {ends[i]->Get(), static_cast<short>(i == 0 ? POLLOUT : POLLIN), 0};
        which[count++] = i;
      }
      if (count == 0) return {};
      const int ready = poll(polled, count, deadline.Remaining());
      if (ready < 0) {
        if (errno == EINTR) continue;
        return {errno, "poll"};
      }
      if (ready == 0) return {ETIMEDOUT, "poll"};
      for (nfds_t k = 0; k < count; k++) {
        if (polled[k].revents == 0) continue;
        Descriptor& end = *ends[which[k]];
        if (which[k] == 0) {
          const ssize_t n = write(end.Get(), input_.data() + written, input_.size() - written);
          if (n >= 0) {
            written += static_cast<size_t>(n);
            if (written == input_.size()) end.Close();
          } else if (errno == EPIPE) {
            // A tool that exits early (a refused batch) closes its stdin: its status tells why.
            end.Close();
          } else if (errno != EINTR && errno != EAGAIN) {
            return {errno, "write"};
          }
        } else {
          const ssize_t n = read(end.Get(), buffer, sizeof buffer);
          if (n > 0) {
            sinks[which[k]]->append(buffer, static_cast<size_t>(n));
          } else if (n == 0) {
            end.Close();
          } else if (errno != EINTR && errno != EAGAIN) {
            return {errno, "read"};
          }
        }
      }
    }
  }

  std::vector<uint8_t> input_;
  int64_t timeoutMs_;
  int status_ = -1;
  std::string stdout_;
  std::string stderr_;
};

static Napi::Value RunProcessExport(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string file = FileArg(info);
  std::vector<std::string> argv = ArgvArg(info);
  std::vector<uint8_t> input;
  if (info.Length() > 2 && info[2].IsBuffer()) {
    // Copied here: the Buffer belongs to JavaScript and must not be read from a pool thread.
    auto buffer = info[2].As<Napi::Buffer<uint8_t>>();
    input.assign(buffer.Data(), buffer.Data() + buffer.Length());
  } else if (info.Length() > 2 && !info[2].IsUndefined()) {
    throw Napi::TypeError::New(env, "input must be a Buffer or undefined");
  }
  int64_t timeoutMs = 0;
  if (info.Length() > 4 && info[4].IsNumber()) {
    const double given = info[4].As<Napi::Number>().DoubleValue();
    if (!std::isfinite(given) || given < 0) throw Napi::RangeError::New(env, "timeoutMs must be a finite number >= 0");
    timeoutMs = static_cast<int64_t>(std::ceil(given));
  } else if (info.Length() > 4 && !info[4].IsUndefined()) {
    throw Napi::TypeError::New(env, "timeoutMs must be a number or undefined");
  }
  if (info.Length() < 6 || !info[5].IsFunction()) throw Napi::TypeError::New(env, "callback must be a function");
  Napi::Function callback = info[5].As<Napi::Function>();
  auto* worker = new RunProcess(callback, std::move(file), std::move(argv), EnvironmentArg(info, 3), std::move(input), timeoutMs);
  worker->Queue();
  return env.Undefined();
}

// spawnStreaming(file, argv, env, stdinPipe, callback(error, {pid, stdin, stdout, stderr})): starts
// a process whose output the caller reads as it comes (exec in a container), from a libuv pool
// thread like runProcess. Its stdin is /dev/null, or with stdinPipe a pipe whose write end is
// `stdin` (-1 without); `stdout` and `stderr` are the read ends of its pipes; all now the caller's
// to use and close. The caller reaps it with reapIfExited once its output has ended.
class SpawnStreaming : public SpawnWorker {
 public:
  SpawnStreaming(Napi::Function& callback, std::string file, std::vector<std::string> argv, std::vector<std::string> environment, bool stdinPipe)
      : SpawnWorker(callback, std::move(file), std::move(argv), std::move(environment)), stdinPipe_(stdinPipe) {}

  void Execute() override {
    Descriptor theirs[3];
    if (stdinPipe_) {
      failure_ = OpenPipe(theirs[0], stdin_);
      if (failure_.number != 0) return;
    } else {
      theirs[0].Reset(open("/dev/null", O_RDONLY | O_CLOEXEC));
      if (!theirs[0].IsOpen()) {
        failure_ = {errno, "open"};
        return;
      }
    }
    failure_ = OpenPipe(stdout_, theirs[1]);
    if (failure_.number == 0) failure_ = OpenPipe(stderr_, theirs[2]);
    if (failure_.number != 0) return;
    const int fds[3] = {theirs[0].Get(), theirs[1].Get(), theirs[2].Get()};
    failure_ = StartChild(file_, argv_, environment_, fds, &pid_);
  }

  Napi::Object Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("pid", Napi::Number::New(env, pid_));
    // The descriptors go to JavaScript: ours no longer close them.
    result.Set("stdin", Napi::Number::New(env, stdinPipe_ ? stdin_.Release() : -1));
    result.Set("stdout", Napi::Number::New(env, stdout_.Release()));
    result.Set("stderr", Napi::Number::New(env, stderr_.Release()));
    return result;
  }

 private:
  bool stdinPipe_;
  pid_t pid_ = -1;
  Descriptor stdin_;
  Descriptor stdout_;
  Descriptor stderr_;
};

static Napi::Value SpawnStreamingExport(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string file = FileArg(info);
  std::vector<std::string> argv = ArgvArg(info);
  if (info.Length() < 4 || !info[3].IsBoolean()) throw Napi::TypeError::New(env, "stdinPipe must be a boolean");
  if (info.Length() < 5 || !info[4].IsFunction()) throw Napi::TypeError::New(env, "callback must be a function");
  Napi::Function callback = info[4].As<Napi::Function>();
  (new SpawnStreaming(callback, std::move(file), std::move(argv), EnvironmentArg(info, 2), info[3].As<Napi::Boolean>().Value()))->Queue();
  return env.Undefined();
}

// reapIfExited(pid): the exit code (128 + signal when killed) of a child that has ended, now
// reaped; null while it runs.
static Napi::Value ReapIfExited(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const double value = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0;
  if (!(value >= 1 && value <= INT_MAX && std::floor(value) == value)) throw Napi::TypeError::New(env, "pid must be an integer >= 1");
  int status;
  pid_t reaped;
  while ((reaped = waitpid(static_cast<pid_t>(value), &status, WNOHANG)) < 0 && errno == EINTR) {
  }
  if (reaped < 0) throw ErrnoError(env, errno, "waitpid", std::to_string(static_cast<pid_t>(value)));
  if (reaped == 0) return env.Null();
  return Napi::Number::New(env, ExitCode(status));
}

void InitSpawn(Napi::Env env, Napi::Object exports) {
  exports.Set("spawnAndWait", Napi::Function::New(env, SpawnAndWait));
  exports.Set("runProcess", Napi::Function::New(env, RunProcessExport));
  exports.Set("spawnStreaming", Napi::Function::New(env, SpawnStreamingExport));
  exports.Set("reapIfExited", Napi::Function::New(env, ReapIfExited));
}

}  // namespace netctl
