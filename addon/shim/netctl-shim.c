// netctl-shim: the supervisor of one container, as containerd has a shim per container. It
// starts the container's first process in new pid, mount, uts and ipc namespaces, inside the
// sandbox's network namespace and a root of its own (an overlay over the image root), holds its
// stdout and stderr (framed into STATE_DIR/log as Docker's multiplexed stream: a byte for the
// stream, three zero bytes, a big-endian length, the data), and writes its exit code to
// STATE_DIR/exit. It outlives the daemon that started it: a restarted daemon finds the code there,
// and finds a start it did not see finish through STATE_DIR/pids ("SHIM_PID SHIM_START" once the
// shim has detached, "... CHILD_PID CHILD_START" once the command runs; start times in clock ticks
// since boot, so a reused PID is never taken for these). The command dies with its shim.
//
// usage: netctl-shim STATE_DIR NETNS ROOTFS HOSTNAME WORKDIR START_TIMEOUT_MS CMD [ARG...]
// The container gets the shim's environment. On stdout the shim says "pid N shim M" once the
// command runs (N is its PID, M the shim's), or "error MESSAGE" when it could not start it (then
// it exits 1), and closes it. A start
// that has not reached exec after START_TIMEOUT_MS (a stalled file system under the root, a
// FIFO where the sandbox should be) is killed by the shim itself: the daemon only sees the
// first process, which has exited long before, so it could not kill what hangs.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static int report_fd = -1;  // the child's end of the start-up error pipe

// The start's deadline: its handler may only use async-signal-safe calls, so the message is
// formatted when the timer is armed.
static volatile pid_t starting_child = 0;
static char deadline_message[256];
static size_t deadline_message_length = 0;

static void on_start_deadline(int signal_number) {
  (void)signal_number;
  if (starting_child > 0) kill(starting_child, SIGKILL);  // pid 1 of its pid namespace: all of it goes
  if (write(STDOUT_FILENO, deadline_message, deadline_message_length) < 0) _exit(1);
  _exit(1);
}

static int arm_start_deadline(long timeout_ms) {
  int length = snprintf(deadline_message, sizeof deadline_message,
                        "error the container did not start within %ld ms (its root, its sandbox or its command hung): killed\n", timeout_ms);
  deadline_message_length = length < (int)sizeof deadline_message ? (size_t)length : sizeof deadline_message - 1;
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_start_deadline;
  struct itimerval timer = {{0, 0}, {timeout_ms / 1000, (timeout_ms % 1000) * 1000}};
  return sigaction(SIGALRM, &action, NULL) < 0 || setitimer(ITIMER_REAL, &timer, NULL) < 0 ? -1 : 0;
}

static void disarm_start_deadline(void) {
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
}

// In the child before exec: say what failed on the error pipe and give up.
static void fail(const char *format, ...) {
  char message[1024];
  va_list args;
  va_start(args, format);
  int length = vsnprintf(message, sizeof message, format, args);
  va_end(args);
  if (length > (int)sizeof message - 1) length = sizeof message - 1;
  if (write(report_fd, message, (size_t)length) < 0) _exit(126);
  _exit(126);
}

static void path_join(char *out, size_t size, const char *a, const char *b) {
  if ((size_t)snprintf(out, size, "%s/%s", a, b) >= size) fail("path too long: %s/%s", a, b);
}

static void make_dir(const char *path) {
  if (mkdir(path, 0755) < 0 && errno != EEXIST) fail("mkdir %s: %s", path, strerror(errno));
}

/** Bind-mounts `source` onto `target`, creating `target` as an empty file or directory. */
static void bind(const char *source, const char *target, int directory) {
  if (directory) {
    make_dir(target);
  } else {
    int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) fail("create %s: %s", target, strerror(errno));
    close(fd);
  }
  if (mount(source, target, NULL, MS_BIND, NULL) < 0) fail("bind %s on %s: %s", source, target, strerror(errno));
}

/** The container's root: an overlay with the image below and the container's own layer above. */
static void mount_root(const char *state, const char *rootfs, char *merged, size_t size) {
  char upper[4096], work[4096], options[12800];
  path_join(merged, size, state, "root");
  path_join(upper, sizeof upper, state, "upper");
  path_join(work, sizeof work, state, "work");
  make_dir(merged);
  make_dir(upper);
  make_dir(work);
  snprintf(options, sizeof options, "lowerdir=%s,upperdir=%s,workdir=%s", rootfs, upper, work);
  if (mount("overlay", merged, "overlay", 0, options) == 0) return;
  // No overlayfs here: the image root itself, shared with other containers of the same image.
  if (mount(rootfs, merged, NULL, MS_BIND | MS_REC, NULL) < 0) fail("mount root %s: %s", rootfs, strerror(errno));
}

/** A minimal /dev: a tmpfs with the usual character devices bound from the host, and /dev/shm. */
static void mount_dev(const char *root) {
  static const char *devices[] = {"null", "zero", "full", "random", "urandom", "tty"};
  char dev[4096], target[4096], source[64];
  path_join(dev, sizeof dev, root, "dev");
  make_dir(dev);
  if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k") < 0) fail("mount /dev: %s", strerror(errno));
  for (size_t i = 0; i < sizeof devices / sizeof *devices; i++) {
    snprintf(source, sizeof source, "/dev/%s", devices[i]);
    path_join(target, sizeof target, dev, devices[i]);
    bind(source, target, 0);
  }
  path_join(target, sizeof target, dev, "shm");
  make_dir(target);
  if (mount("shm", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k") < 0) fail("mount /dev/shm: %s", strerror(errno));
}

static void mount_kernel_filesystems(const char *root) {
  char target[4096];
  path_join(target, sizeof target, root, "proc");
  make_dir(target);
  if (mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) fail("mount /proc: %s", strerror(errno));
  path_join(target, sizeof target, root, "sys");
  make_dir(target);
  // sysfs shows the interfaces of the mounting namespace: the sandbox's.
  if (mount("sysfs", target, "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) < 0) fail("mount /sys: %s", strerror(errno));
  path_join(target, sizeof target, root, "tmp");
  make_dir(target);
}

/** The container's own /etc/hosts, /etc/resolv.conf and /etc/hostname, written by the daemon. */
static void mount_etc(const char *state, const char *root) {
  static const char *files[] = {"hosts", "resolv.conf", "hostname"};
  char etc[4096], source[4096], target[4096];
  path_join(etc, sizeof etc, root, "etc");
  make_dir(etc);
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    path_join(source, sizeof source, state, files[i]);
    path_join(target, sizeof target, etc, files[i]);
    bind(source, target, 0);
  }
}

static void run_container(char **argv, int out, int err) {
  const char *state = argv[1], *netns = argv[2], *rootfs = argv[3], *hostname = argv[4], *workdir = argv[5];
  int null = open("/dev/null", O_RDONLY);
  if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) fail("stdio: %s", strerror(errno));
  int netns_fd = open(netns, O_RDONLY | O_CLOEXEC);
  if (netns_fd < 0) fail("open sandbox %s: %s", netns, strerror(errno));
  if (setns(netns_fd, CLONE_NEWNET) < 0) fail("join sandbox %s: %s", netns, strerror(errno));
  close(netns_fd);
  if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC) < 0) fail("unshare: %s", strerror(errno));
  // Mounts made from here on stay in this namespace and vanish with it.
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail("make mounts private: %s", strerror(errno));
  char root[4096];
  mount_root(state, rootfs, root, sizeof root);
  mount_kernel_filesystems(root);
  mount_dev(root);
  mount_etc(state, root);
  if (sethostname(hostname, strlen(hostname)) < 0) fail("sethostname %s: %s", hostname, strerror(errno));
  if (chdir(root) < 0 || chroot(".") < 0) fail("chroot %s: %s", root, strerror(errno));
  if (chdir(workdir) < 0) fail("working directory %s: %s", workdir, strerror(errno));
  // Ignored signals stay ignored through exec: the command starts with none of the shim's.
  for (int signal_number = 1; signal_number < SIGRTMIN; signal_number++) signal(signal_number, SIG_DFL);
  execvp(argv[7], argv + 7);
  fail("exec %s: %s", argv[7], errno == ENOENT ? "executable file not found in $PATH" : strerror(errno));
}

/** Appends one frame of Docker's multiplexed stream (1 = stdout, 2 = stderr) to the log. */
static void log_frame(int log, uint8_t stream, const char *data, size_t length) {
  uint8_t header[8] = {stream, 0, 0, 0, (uint8_t)(length >> 24), (uint8_t)(length >> 16), (uint8_t)(length >> 8), (uint8_t)length};
  struct iovec parts[2] = {{header, sizeof header}, {(void *)data, length}};
  if (writev(log, parts, 2) < 0) {
    // A full disk loses output, never the container.
  }
}

/** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. */
static unsigned long long start_ticks(pid_t pid) {
  char path[64], stat[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t length = read(fd, stat, sizeof stat - 1);
  close(fd);
  if (length <= 0) return 0;
  stat[length] = 0;
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  char *field = strrchr(stat, ')');
  for (int i = 2; field != NULL && i < 22; i++) field = strchr(field + 1, ' ');
  return field != NULL ? strtoull(field + 1, NULL, 10) : 0;
}

/** STATE_DIR/pids, replaced whole (a reader never sees half a line). */
static void write_pids(const char *state, pid_t child) {
  char path[4096], temporary[4096], text[128];
  path_join(path, sizeof path, state, "pids");
  path_join(temporary, sizeof temporary, state, "pids.tmp");
  int length = child > 0 ? snprintf(text, sizeof text, "%d %llu %d %llu\n", (int)getpid(), start_ticks(getpid()), (int)child, start_ticks(child))
                         : snprintf(text, sizeof text, "%d %llu\n", (int)getpid(), start_ticks(getpid()));
  int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (write(fd, text, (size_t)length) == length) rename(temporary, path);
  close(fd);
}

static void write_exit_code(const char *state, int code) {
  char path[4096], temporary[4096], text[16];
  path_join(path, sizeof path, state, "exit");
  path_join(temporary, sizeof temporary, state, "exit.tmp");
  int length = snprintf(text, sizeof text, "%d\n", code);
  int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (write(fd, text, (size_t)length) == length && fsync(fd) == 0) rename(temporary, path);
  close(fd);
}

int main(int argc, char **argv) {
  char *end = NULL;
  long start_timeout_ms = argc > 6 ? strtol(argv[6], &end, 10) : 0;
  if (argc < 8 || end == argv[6] || *end != 0 || start_timeout_ms <= 0) {
    fprintf(stderr, "usage: netctl-shim STATE_DIR NETNS ROOTFS HOSTNAME WORKDIR START_TIMEOUT_MS CMD [ARG...]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  // Leave the daemon at once, as containerd's shims do: its child exits, this one lives on under
  // init (the daemon keeps nothing per container), and the result line still reaches the daemon
  // through the stdout both share.
  pid_t detached = fork();
  if (detached < 0) {
    printf("error fork: %s\n", strerror(errno));
    return 1;
  }
  if (detached > 0) _exit(0);
  setsid();
  write_pids(argv[1], 0);
  // Armed in the detached process: timers are not inherited across fork.
  if (arm_start_deadline(start_timeout_ms) < 0) {
    printf("error start deadline: %s\n", strerror(errno));
    return 1;
  }
  char log_path[4096];
  snprintf(log_path, sizeof log_path, "%s/log", argv[1]);
  int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  int out[2], err[2], report[2];
  if (log < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0) {
    printf("error shim set-up: %s\n", strerror(errno));
    return 1;
  }
  // The next child is pid 1 of a new pid namespace.
  if (unshare(CLONE_NEWPID) < 0) {
    printf("error new pid namespace: %s\n", strerror(errno));
    return 1;
  }
  // The deadline must not strike between fork and knowing the child's pid, or the child would
  // outlive it: SIGALRM waits until then.
  sigset_t alarm_only, previous;
  sigemptyset(&alarm_only);
  sigaddset(&alarm_only, SIGALRM);
  sigprocmask(SIG_BLOCK, &alarm_only, &previous);
  pid_t child = fork();
  if (child < 0) {
    printf("error fork: %s\n", strerror(errno));
    return 1;
  }
  if (child == 0) {
    // The container goes with its shim (a shim killed cannot record the exit), as containerd
    // kills a container whose shim died; one killed before this line is left to the daemon.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // A blocked signal would stay blocked in the container's process through exec.
    sigprocmask(SIG_SETMASK, &previous, NULL);
    report_fd = report[1];
    run_container(argv, out[1], err[1]);
  }
  starting_child = child;
  sigprocmask(SIG_SETMASK, &previous, NULL);
  close(out[1]);
  close(err[1]);
  close(report[1]);
  char message[1024];
  ssize_t length = read(report[0], message, sizeof message - 1);
  disarm_start_deadline();
  if (length > 0) {
    message[length] = 0;
    waitpid(child, NULL, 0);
    printf("error %s\n", message);
    return 1;
  }
  write_pids(argv[1], child);
  printf("pid %d shim %d\n", child, (int)getpid());
  fflush(stdout);
  // The daemon has what it needs: from here the shim answers to nobody.
  int null = open("/dev/null", O_RDWR);
  dup2(null, 0);
  dup2(null, 1);
  dup2(null, 2);
  struct pollfd streams[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_streams = 2;
  char buffer[65536];
  while (open_streams > 0) {
    if (poll(streams, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (streams[i].fd < 0 || streams[i].revents == 0) continue;
      ssize_t n = read(streams[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        log_frame(log, (uint8_t)(i + 1), buffer, (size_t)n);
      } else if (n == 0 || errno != EINTR) {
        close(streams[i].fd);
        streams[i].fd = -1;
        open_streams--;
      }
    }
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  write_exit_code(argv[1], WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}
