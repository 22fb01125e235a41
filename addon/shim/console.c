// A container's terminal and stdin: the pty (allocated in the container's own devpts, as runc
// does, so `tty` inside names /dev/pts/N), and the relay between the daemon's control channel and
// the process. The control channel carries frames of a type byte, a big-endian 32-bit length and
// the payload: CONTROL_STDIN (data for the process's stdin), CONTROL_END (stdin is done: a stdin
// pipe is closed), CONTROL_RESIZE (rows and columns, 16 bits each, big-endian).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "shim.h"

enum { CONTROL_STDIN = 0, CONTROL_END = 1, CONTROL_RESIZE = 2 };
enum { HEADER = 5, MAX_PAYLOAD = 32768 };

static void set_size(int master, const struct console_size *size) {
  if (size->rows == 0 || size->columns == 0) return;
  struct winsize window = {.ws_row = size->rows, .ws_col = size->columns};
  ioctl(master, TIOCSWINSZ, &window);
}

int open_console(const struct console_size *size) {
  // /dev/ptmx as the caller's root has it: the container's devpts.
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) fail("open a terminal: %s", strerror(errno));
  set_size(master, size);
  return master;
}

void take_console(int master) {
  char slave_path[64];
  if (ptsname_r(master, slave_path, sizeof slave_path) != 0) fail("name the terminal: %s", strerror(errno));
  // A session of its own, the terminal its controlling one: job control and ^C work as in Docker.
  if (setsid() < 0) fail("setsid: %s", strerror(errno));
  int slave = open(slave_path, O_RDWR);
  if (slave < 0) fail("open %s: %s", slave_path, strerror(errno));
  if (ioctl(slave, TIOCSCTTY, 0) < 0) fail("make %s the controlling terminal: %s", slave_path, strerror(errno));
  for (int target = 0; target < 3; target++) {
    if (dup2(slave, target) < 0) fail("stdio on %s: %s", slave_path, strerror(errno));
  }
  if (slave > 2) close(slave);
  close(master);
}

void send_fd(int socket, int fd) {
  char control[CMSG_SPACE(sizeof(int))];
  char byte = 0;
  struct iovec part = {&byte, 1};
  struct msghdr message = {.msg_iov = &part, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  struct cmsghdr *header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(header), &fd, sizeof fd);
  if (sendmsg(socket, &message, 0) < 0) fail("hand over the terminal: %s", strerror(errno));
}

int receive_fd(int socket) {
  char control[CMSG_SPACE(sizeof(int))];
  char byte;
  struct iovec part = {&byte, 1};
  struct msghdr message = {.msg_iov = &part, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  if (recvmsg(socket, &message, MSG_CMSG_CLOEXEC) <= 0) return -1;
  struct cmsghdr *header = CMSG_FIRSTHDR(&message);
  if (header == NULL || header->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(header), sizeof fd);
  return fd;
}

/** Data for the process's stdin not yet taken: the control channel is not read until it is, so one read's frames fit. */
struct pending {
  uint8_t data[HEADER + MAX_PAYLOAD];
  size_t start, end;
  int end_requested;
};

/** Applies the whole frames at the head of `frames`; returns how many bytes they took (-1: a frame no daemon sends). */
static ssize_t apply_frames(struct relay *relay, struct pending *pending, const uint8_t *frames, size_t length) {
  size_t used = 0;
  while (length - used >= HEADER) {
    const uint8_t *frame = frames + used;
    uint32_t size = (uint32_t)frame[1] << 24 | (uint32_t)frame[2] << 16 | (uint32_t)frame[3] << 8 | frame[4];
    if (size > MAX_PAYLOAD) return -1;
    if (length - used < HEADER + size) break;
    const uint8_t *payload = frame + HEADER;
    if (frame[0] == CONTROL_STDIN && relay->input >= 0 && !pending->end_requested) {
      memcpy(pending->data + pending->end, payload, size);
      pending->end += size;
    } else if (frame[0] == CONTROL_END) {
      pending->end_requested = 1;
    } else if (frame[0] == CONTROL_RESIZE && size == 4 && relay->console >= 0) {
      struct console_size window = {(uint16_t)(payload[0] << 8 | payload[1]), (uint16_t)(payload[2] << 8 | payload[3])};
      set_size(relay->console, &window);
    }
    used += HEADER + size;
  }
  return (ssize_t)used;
}

/** Writes what it can of the pending stdin; a stdin that is gone (the process closed it or ended) drops the rest. */
static void flush_pending(struct relay *relay, struct pending *pending) {
  if (relay->input < 0) pending->start = pending->end;
  while (relay->input >= 0 && pending->start < pending->end) {
    ssize_t n = write(relay->input, pending->data + pending->start, pending->end - pending->start);
    if (n > 0) {
      pending->start += (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      if (n < 0 && errno != EAGAIN) pending->start = pending->end;
      break;
    }
  }
  if (pending->start == pending->end) pending->start = pending->end = 0;
  // The end of stdin closes a pipe; a terminal stays (Docker's too): the process reads on it.
  if (pending->end_requested && pending->end == 0 && relay->input >= 0 && relay->input != relay->console) {
    close(relay->input);
    relay->input = -1;
  }
}

/** Reads one output stream; 0 once it has ended (a terminal says EIO when no process holds it any more). */
static int pass_output(struct relay *relay, int stream, char *buffer, size_t size) {
  ssize_t n = read(relay->outputs[stream], buffer, size);
  if (n > 0) {
    relay->on_output(stream, buffer, (size_t)n, relay->context);
    return 1;
  }
  return n < 0 && (errno == EINTR || errno == EAGAIN) ? 1 : 0;
}

void run_relay(struct relay *relay) {
  static struct pending pending;
  static uint8_t frames[HEADER + MAX_PAYLOAD];
  static char buffer[65536];
  size_t framed = 0;
  if (relay->input >= 0) fcntl(relay->input, F_SETFL, fcntl(relay->input, F_GETFL) | O_NONBLOCK);
  for (;;) {
    // 0, 1: outputs; 2: the control channel; 3: stdin's target; 4: the process's exit.
    struct pollfd fds[5] = {{relay->outputs[0], POLLIN, 0}, {relay->outputs[1], POLLIN, 0}, {-1, POLLIN, 0}, {-1, POLLOUT, 0}, {relay->exited, POLLIN, 0}};
    if (relay->outputs[0] < 0 && relay->outputs[1] < 0 && relay->exited < 0) return;
    if (pending.end > 0) fds[3].fd = relay->input;
    else fds[2].fd = relay->control;
    if (poll(fds, 5, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int stream = 0; stream < 2; stream++) {
      if (fds[stream].fd < 0 || fds[stream].revents == 0) continue;
      if (!pass_output(relay, stream, buffer, sizeof buffer)) {
        if (relay->outputs[stream] != relay->console) close(relay->outputs[stream]);
        relay->outputs[stream] = -1;
      }
    }
    if (fds[2].fd >= 0 && fds[2].revents != 0) {
      ssize_t n = read(relay->control, frames + framed, sizeof frames - framed);
      if (n > 0) {
        framed += (size_t)n;
        ssize_t used = apply_frames(relay, &pending, frames, framed);
        if (used < 0) {
          relay->control = -1;  // not the daemon speaking: heard no more
        } else {
          memmove(frames, frames + used, framed - (size_t)used);
          framed -= (size_t)used;
        }
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        // The daemon has gone (exec): its stdin ends with it.
        relay->control = -1;
        pending.end_requested = 1;
      }
    }
    flush_pending(relay, &pending);
    if (fds[4].fd >= 0 && fds[4].revents != 0) {
      // The process has ended: what it wrote last is read, and the relay is done.
      for (int stream = 0; stream < 2; stream++) {
        if (relay->outputs[stream] < 0) continue;
        fcntl(relay->outputs[stream], F_SETFL, fcntl(relay->outputs[stream], F_GETFL) | O_NONBLOCK);
        for (ssize_t n; (n = read(relay->outputs[stream], buffer, sizeof buffer)) > 0;) relay->on_output(stream, buffer, (size_t)n, relay->context);
      }
      return;
    }
  }
}
