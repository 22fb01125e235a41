// netctl-shim: the supervisor of one container, as containerd has a shim per container. It
// starts the container's first process in new pid, mount, uts and ipc namespaces, inside the
// sandbox's network namespace and a root of its own (an overlay over the image root, entered with
// pivot_root), confined as Docker confines containers (capabilities, seccomp, masked paths: see
// root.c and confine.c), holds its stdout and stderr (framed into STATE_DIR/log as Docker's
// multiplexed stream: a byte for the stream, three zero bytes, a big-endian length, the data; each
// frame after one of netctl's own, stream 16, holding when it was read), and
// writes its exit code to STATE_DIR/exit. With --tty the process's stdio is a pty of the container's
// own devpts, whose output is logged raw (Docker's log of a TTY container); with --tty or --stdin
// the shim reads the daemon's frames (stdin data, its end, resizes: see console.c) from the FIFO
// STATE_DIR/control, which it makes. It outlives the daemon that started it: a restarted
// daemon finds the code there, and finds a start it did not see finish through STATE_DIR/pids
// ("SHIM_PID SHIM_START" once the shim has detached, "... CHILD_PID CHILD_START" once the command
// runs; start times in clock ticks since boot, so a reused PID is never taken for these). The
// command dies with its shim.
//
// usage: netctl-shim [OPTIONS] STATE_DIR NETNS ROOTFS HOSTNAME WORKDIR START_TIMEOUT_MS CMD [ARG...]
//        netctl-shim exec [OPTIONS] PID START_TICKS WORKDIR CMD [ARG...]
// OPTIONS: --caps HEX (the capability set; Docker's default without it), --no-new-privileges,
// --privileged (no seccomp, masked paths or read-only /sys; the host's devices), --env-file FILE
// (the command's environment, NUL-separated KEY=VALUE entries; empty without it: the shim's own
// environment never reaches the command, nor the command's the host-side shim), --seccomp-cache
// DIR (where built seccomp filters are kept for later starts: a root-only directory), --tty (a
// pty for stdio), --stdin (stdin open: a pipe without --tty), --size ROWS,COLUMNS (the pty's).
// On stdout the shim says "pid N shim M" once the command runs (N is its PID, M the shim's), or
// "error MESSAGE" when it could not start it (then it exits 1), and closes it. A start that has
// not reached exec after START_TIMEOUT_MS (a stalled file system under the root, a FIFO where the
// sandbox should be) is killed by the shim itself: the daemon only sees the first process, which
// has exited long before, so it could not kill what hangs.
// exec runs CMD in the namespaces and root of the running container whose first process is PID
// (started at START_TICKS, /proc/PID/stat's field 22, so that a recycled PID is never joined),
// confined as that process; it exits with CMD's code, or says why on stderr and exits 126. With
// --tty or --stdin, the daemon's frames come on the shim's stdin, and a pty's output on its stdout.
#define _GNU_SOURCE
#include <ctype.h>
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

static int report_fd = -1;  // the child's end of the start-up error pipe; stderr (lines) for exec

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

void fail(const char *format, ...) {
  char message[1024];
  va_list args;
  va_start(args, format);
  int length = vsnprintf(message, sizeof message - 1, format, args);
  va_end(args);
  if (length < 0) length = 0;
  if (length > (int)sizeof message - 2) length = sizeof message - 2;
  if (report_fd == STDERR_FILENO) message[length++] = '\n';
  if (write(report_fd, message, (size_t)length) < 0) _exit(126);
  _exit(126);
}

static void path_join(char *out, size_t size, const char *a, const char *b) {
  if ((size_t)snprintf(out, size, "%s/%s", a, b) >= size) fail("path too long: %s/%s", a, b);
}

struct options {
  struct confinement confinement;
  const char *env_file;
  int tty, open_stdin;
  struct console_size size;
};

#define USAGE \
  "usage: netctl-shim [OPTIONS] STATE_DIR NETNS ROOTFS HOSTNAME WORKDIR START_TIMEOUT_MS CMD [ARG...]\n" \
  "       netctl-shim exec [OPTIONS] PID START_TICKS WORKDIR CMD [ARG...]\n" \
  "OPTIONS: --caps HEX, --no-new-privileges, --privileged, --env-file FILE, --seccomp-cache DIR,\n" \
  "         --tty, --stdin, --size ROWS,COLUMNS\n"

/** Reads the options from argv[first]; returns the index of the first argument after them, or -1 after saying what is wrong. */
static int parse_options(int argc, char **argv, int first, struct options *options) {
  *options = (struct options){{DEFAULT_CAPABILITIES, 0, 0, NULL, {0, NULL}}, NULL, 0, 0, {0, 0}};
  int i = first;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    const char *option = argv[i];
    if (strcmp(option, "--") == 0) return i + 1;
    if (strcmp(option, "--no-new-privileges") == 0) {
      options->confinement.no_new_privileges = 1;
    } else if (strcmp(option, "--privileged") == 0) {
      options->confinement.privileged = 1;
    } else if (strcmp(option, "--tty") == 0) {
      options->tty = 1;
    } else if (strcmp(option, "--stdin") == 0) {
      options->open_stdin = 1;
    } else if (strcmp(option, "--size") == 0 && i + 1 < argc) {
      unsigned rows, columns;
      char extra;
      if (sscanf(argv[++i], "%u,%u%c", &rows, &columns, &extra) != 2 || rows > 65535 || columns > 65535) {
        fprintf(stderr, "netctl-shim: --size takes ROWS,COLUMNS (0 to 65535), not \"%s\"\n", argv[i]);
        return -1;
      }
      options->size = (struct console_size){(uint16_t)rows, (uint16_t)columns};
    } else if (strcmp(option, "--env-file") == 0 && i + 1 < argc) {
      options->env_file = argv[++i];
    } else if (strcmp(option, "--seccomp-cache") == 0 && i + 1 < argc) {
      options->confinement.seccomp_cache = argv[++i];
    } else if (strcmp(option, "--caps") == 0 && i + 1 < argc) {
      const char *mask = argv[++i];
      char *end = NULL;
      errno = 0;
      options->confinement.capabilities = strtoull(mask, &end, 16);
      if (errno != 0 || end == mask || *end != 0) {
        fprintf(stderr, "netctl-shim: --caps takes a hexadecimal capability mask, not \"%s\"\n", mask);
        return -1;
      }
    } else {
      fprintf(stderr, "netctl-shim: unknown option %s (or its value is missing)\n" USAGE, option);
      return -1;
    }
  }
  return i;
}

/** The command's environment: the NUL-separated entries of `file`, read while host paths are still in view; none without one. */
static char **read_environment(const char *file) {
  static char *none[] = {NULL};
  if (file == NULL) return none;
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  struct stat status;
  if (fd < 0 || fstat(fd, &status) < 0) fail("read the environment %s: %s", file, strerror(errno));
  char *text = malloc((size_t)status.st_size + 1);
  if (!text) fail("read the environment %s: out of memory", file);
  size_t length = 0, entries = 0;
  for (ssize_t n; length < (size_t)status.st_size && (n = read(fd, text + length, (size_t)status.st_size - length)) > 0;) length += (size_t)n;
  close(fd);
  text[length] = 0;
  for (size_t i = 0; i < length; i++) entries += text[i] == 0;
  char **environment = calloc(entries + 2, sizeof *environment);
  if (!environment) fail("read the environment %s: out of memory", file);
  size_t count = 0;
  for (char *entry = text; entry < text + length; entry += strlen(entry) + 1) environment[count++] = entry;
  return environment;
}

/** In the container's root: stdin from its own /dev/null unless it has one, the shim's signals and fds left behind, confined, exec. */
static void exec_command(const struct confinement *confinement, char **command, char **environment, int has_stdin) {
  // Not the host's /dev/null, which the container could fchmod through the fd.
  int null = has_stdin ? 0 : open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0 || dup2(null, 0) < 0) fail("stdin: %s", strerror(errno));
  // Ignored signals stay ignored through exec: the command starts with none of the shim's.
  for (int signal_number = 1; signal_number < SIGRTMIN; signal_number++) signal(signal_number, SIG_DFL);
  // Nothing but stdio reaches the command: an fd the shim inherited may be a host file's.
  if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) fail("close_range: %s (netctl needs Linux 5.11 or later)", strerror(errno));
  confine(confinement);
  // execvp searches the PATH of `environ`: the container's.
  environ = environment;
  execvp(command[0], command);
  int error = errno;
  if (error == ENOENT) fail("exec %s: executable file not found in $PATH", command[0]);
  // In runc's words, lowercase ("permission denied"): Docker's CLI reads them for its exit code (126).
  char reason[128];
  snprintf(reason, sizeof reason, "%s", strerror(error));
  reason[0] = (char)tolower((unsigned char)reason[0]);
  fail("exec %s: %s", command[0], reason);
}

/** The container's stdio: pipes to the shim (out, err, and stdin unless -1), or a pty whose master goes to the shim over `console_socket`. */
struct stdio {
  int out, err, in, console_socket;
};

static void run_container(struct options *options, char **positional, const struct stdio *stdio) {
  const char *state = positional[0], *netns = positional[1], *rootfs = positional[2], *hostname = positional[3], *workdir = positional[4];
  int privileged = options->confinement.privileged;
  if (!options->tty && (dup2(stdio->out, 1) < 0 || dup2(stdio->err, 2) < 0 || (stdio->in >= 0 && dup2(stdio->in, 0) < 0))) fail("stdio: %s", strerror(errno));
  char **environment = read_environment(options->env_file);
  prepare_seccomp(&options->confinement);
  int netns_fd = open(netns, O_RDONLY | O_CLOEXEC);
  if (netns_fd < 0) fail("open sandbox %s: %s", netns, strerror(errno));
  if (setns(netns_fd, CLONE_NEWNET) < 0) fail("join sandbox %s: %s", netns, strerror(errno));
  close(netns_fd);
  if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC) < 0) fail("unshare: %s", strerror(errno));
  // Mounts made from here on stay in this namespace and vanish with it.
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail("make mounts private: %s", strerror(errno));
  int root = mount_root(state, rootfs, privileged);
  populate_root(root, state, privileged);
  enter_root(root);
  if (!privileged) mask_paths();
  if (sethostname(hostname, strlen(hostname)) < 0) fail("sethostname %s: %s", hostname, strerror(errno));
  if (chdir(workdir) < 0) fail("working directory %s: %s", workdir, strerror(errno));
  if (options->tty) {
    int master = open_console(&options->size);
    send_fd(stdio->console_socket, master);
    take_console(master);
  }
  exec_command(&options->confinement, positional + 6, environment, options->tty || stdio->in >= 0);
}

/**
 * Field 22 of a /proc/PID/stat file (`stat_path` under `directory`): when the process started, in
 * clock ticks since boot; 0 when it cannot be read.
 */
static unsigned long long read_start_ticks(int directory, const char *stat_path) {
  char stat[1024];
  int fd = openat(directory, stat_path, O_RDONLY | O_CLOEXEC);
  ssize_t length = fd < 0 ? -1 : read(fd, stat, sizeof stat - 1);
  if (fd >= 0) close(fd);
  if (length <= 0) return 0;
  stat[length] = 0;
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  const char *field = strrchr(stat, ')');
  for (int i = 2; field != NULL && i < 22; i++) field = strchr(field + 1, ' ');
  return field != NULL ? strtoull(field + 1, NULL, 10) : 0;
}

static unsigned long long start_ticks(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  return read_start_ticks(AT_FDCWD, path);
}

/** Joins the namespaces and the root of process `pid`, if it is still the one that started at `start_ticks`. */
static void join_container(const char *pid, const char *started) {
  static const struct {
    const char *file;
    int type;
  } namespaces[] = {{"ns/ipc", CLONE_NEWIPC}, {"ns/uts", CLONE_NEWUTS}, {"ns/net", CLONE_NEWNET}, {"ns/pid", CLONE_NEWPID}, {"ns/mnt", CLONE_NEWNS}};
  char path[64];
  snprintf(path, sizeof path, "/proc/%s", pid);
  // Everything is opened through this directory, which stays the process's own: if the process
  // has gone, reads through it fail, even when its PID belongs to another process by now.
  int process = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (process < 0 || read_start_ticks(process, "stat") != strtoull(started, NULL, 10)) fail("the container's process %s has exited", pid);
  int fds[sizeof namespaces / sizeof *namespaces];
  for (size_t i = 0; i < sizeof namespaces / sizeof *namespaces; i++) {
    fds[i] = openat(process, namespaces[i].file, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) fail("open %s/%s: %s", path, namespaces[i].file, strerror(errno));
  }
  int root = openat(process, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) fail("open %s/root: %s", path, strerror(errno));
  for (size_t i = 0; i < sizeof namespaces / sizeof *namespaces; i++) {
    if (setns(fds[i], namespaces[i].type) < 0) fail("join the container's %s namespace: %s", namespaces[i].file + 3, strerror(errno));
    close(fds[i]);
  }
  // The process's own root, not just its mount namespace's.
  if (fchdir(root) < 0 || chroot(".") < 0 || chdir("/") < 0) fail("enter the container's root: %s", strerror(errno));
  close(root);
  close(process);
}

static void write_all(int fd, const char *data, size_t length) {
  while (length > 0) {
    ssize_t n = write(fd, data, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    length -= (size_t)n;
  }
}

static void pass_to_stdout(int stream, const char *data, size_t length, void *context) {
  (void)stream, (void)context;
  write_all(STDOUT_FILENO, data, length);
}

/** An exec with a pty or stdin: the daemon's frames on our stdin go to the command, the pty's output to our stdout, until the command ends. */
static void relay_exec(pid_t child, int master, int in[2]) {
  // A command that closes its stdin must not take the shim with it.
  signal(SIGPIPE, SIG_IGN);
  if (in[0] >= 0) close(in[0]);
  int exited = (int)syscall(SYS_pidfd_open, child, 0);
  if (exited < 0) {
    // Then the wait alone: the command runs with its stdin at its end.
    if (in[1] >= 0) close(in[1]);
    return;
  }
  struct relay relay = {{master, -1}, pass_to_stdout, NULL, STDIN_FILENO, master >= 0 ? master : in[1], master, exited};
  run_relay(&relay);
  close(exited);
}

static int exec_in_container(int argc, char **argv) {
  struct options options;
  int first = parse_options(argc, argv, 2, &options);
  if (first < 0 || argc - first < 4) {
    if (first >= 0) fprintf(stderr, USAGE);
    return 2;
  }
  report_fd = STDERR_FILENO;
  const char *pid = argv[first], *started = argv[first + 1], *workdir = argv[first + 2];
  char **environment = read_environment(options.env_file);
  prepare_seccomp(&options.confinement);
  join_container(pid, started);
  // In the container's root: the pty is of its devpts.
  int master = options.tty ? open_console(&options.size) : -1;
  int in[2] = {-1, -1};
  if (options.open_stdin && !options.tty && pipe2(in, O_CLOEXEC) < 0) fail("stdin pipe: %s", strerror(errno));
  // Joining a pid namespace takes effect for children.
  pid_t child = fork();
  if (child < 0) fail("fork: %s", strerror(errno));
  if (child == 0) {
    if (chdir(workdir) < 0) fail("working directory %s: %s", workdir, strerror(errno));
    if (master >= 0) take_console(master);
    if (in[0] >= 0 && dup2(in[0], 0) < 0) fail("stdin: %s", strerror(errno));
    exec_command(&options.confinement, argv + first + 3, environment, options.tty || options.open_stdin);
  }
  if (options.tty || options.open_stdin) relay_exec(child, master, in);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/** The stream of the log's time records: Unix nanoseconds, big-endian; Docker's readers skip a stream they do not know. */
#define LOG_TIME_STREAM 16

/**
 * Appends one frame of Docker's multiplexed stream (1 = stdout, 2 = stderr) to the log, after a
 * time record saying when it was read (for logs' timestamps, since and until), in one write.
 */
static void log_frame(int log, uint8_t stream, const char *data, size_t length) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  uint64_t nanos = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
  uint8_t time_record[16] = {LOG_TIME_STREAM, 0, 0, 0, 0, 0, 0, 8};
  for (int i = 0; i < 8; i++) time_record[8 + i] = (uint8_t)(nanos >> (56 - 8 * i));
  uint8_t header[8] = {stream, 0, 0, 0, (uint8_t)(length >> 24), (uint8_t)(length >> 16), (uint8_t)(length >> 8), (uint8_t)length};
  struct iovec parts[3] = {{time_record, sizeof time_record}, {header, sizeof header}, {(void *)data, length}};
  if (writev(log, parts, 3) < 0) {
    // A full disk loses output, never the container.
  }
}

struct log_sink {
  int fd;
  /** A pty's output: one stream, logged raw, as Docker logs a TTY container. */
  int raw;
};

static void log_output(int stream, const char *data, size_t length, void *context) {
  const struct log_sink *log = context;
  if (log->raw) write_all(log->fd, data, length);
  else log_frame(log->fd, (uint8_t)(stream + 1), data, length);
}

/** STATE_DIR/control, made anew: the FIFO the daemon writes its frames to. Opened read-write, so it never ends when a writer leaves. */
static int open_control(const char *state) {
  char path[4096];
  path_join(path, sizeof path, state, "control");
  unlink(path);
  if (mkfifo(path, 0600) < 0) return -1;
  return open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
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
  if (argc > 1 && strcmp(argv[1], "exec") == 0) return exec_in_container(argc, argv);
  struct options options;
  int first = parse_options(argc, argv, 1, &options);
  if (first < 0) return 2;
  char **positional = argv + first;
  int count = argc - first;
  const char *state = positional[0];
  char *end = NULL;
  long start_timeout_ms = count > 5 ? strtol(positional[5], &end, 10) : 0;
  if (count < 7 || end == positional[5] || *end != 0 || start_timeout_ms <= 0) {
    fprintf(stderr, USAGE);
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
  write_pids(state, 0);
  // Armed in the detached process: timers are not inherited across fork.
  if (arm_start_deadline(start_timeout_ms) < 0) {
    printf("error start deadline: %s\n", strerror(errno));
    return 1;
  }
  char log_path[4096];
  snprintf(log_path, sizeof log_path, "%s/log", state);
  int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  int out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1}, console[2] = {-1, -1}, report[2];
  int control = options.tty || options.open_stdin ? open_control(state) : -2;
  if (log < 0 || control == -1 || pipe2(report, O_CLOEXEC) < 0 ||
      (options.tty ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) < 0
                   : pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || (options.open_stdin && pipe2(in, O_CLOEXEC) < 0))) {
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
    struct stdio stdio = {out[1], err[1], in[0], console[1]};
    run_container(&options, positional, &stdio);
  }
  starting_child = child;
  sigprocmask(SIG_SETMASK, &previous, NULL);
  close(out[1]);
  close(err[1]);
  close(in[0]);
  close(console[1]);
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
  int master = options.tty ? receive_fd(console[0]) : -1;
  if (options.tty && master < 0) {
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    printf("error the container's terminal did not reach the shim\n");
    return 1;
  }
  write_pids(state, child);
  printf("pid %d shim %d\n", child, (int)getpid());
  fflush(stdout);
  // The daemon has what it needs: from here the shim answers to nobody.
  int null = open("/dev/null", O_RDWR);
  dup2(null, 0);
  dup2(null, 1);
  dup2(null, 2);
  struct log_sink sink = {log, options.tty};
  struct relay relay = {{options.tty ? master : out[0], err[0]}, log_output, &sink, control < 0 ? -1 : control, options.tty ? master : in[1], master, -1};
  run_relay(&relay);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  write_exit_code(state, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}
