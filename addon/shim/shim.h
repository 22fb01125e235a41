// What the parts of netctl-shim share: how a container is confined, and the steps that build its
// root (root.c) and confine its process (confine.c) before exec.
#ifndef NETCTL_SHIM_H
#define NETCTL_SHIM_H

#include <linux/filter.h>
#include <stdint.h>

/** Docker's default capabilities: CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID,
 * SETPCAP, NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP. */
#define DEFAULT_CAPABILITIES 0xa80425fbULL

struct confinement {
  /** The bounding, permitted and effective sets (bit N = capability N); inheritable and ambient are empty. */
  uint64_t capabilities;
  int no_new_privileges;
  /** No seccomp filter, no masked or read-only paths, /sys writable, the host's devices in /dev. */
  int privileged;
  /** Where built seccomp filters are kept for later starts (the daemon's, root's only); NULL: none. */
  const char *seccomp_cache;
  /** The seccomp filter to load (see prepare_seccomp). */
  struct sock_fprog filter;
};

/** In the child before exec: says what failed (on the start-up error pipe, or stderr for exec) and exits 126. */
void fail(const char *format, ...) __attribute__((noreturn, format(printf, 1, 2)));

/** Mounts the container's root (overlayfs: the image below, STATE/upper above) at STATE/root; an O_PATH fd of it. */
int mount_root(const char *state, const char *rootfs, int privileged);
/** /proc, /sys, /dev and the /etc files the daemon writes, mounted at paths resolved inside the root. */
void populate_root(int root, const char *state, int privileged);
/** pivot_root into `root`; the host's root is detached and gone from view. */
void enter_root(int root);
/** Docker's masked and read-only paths under /proc and /sys (in the container's root). */
void mask_paths(void);

/**
 * Builds the seccomp filter (libseccomp), or reads it from the cache where an earlier start left
 * it: building costs milliseconds, reading microseconds. Called while host paths are in view.
 */
void prepare_seccomp(struct confinement *confinement);
/** Capabilities, no_new_privs and the seccomp filter: the last steps before exec. */
void confine(const struct confinement *confinement);

/** A terminal's size; 0 rows or columns: the kernel's default. */
struct console_size {
  uint16_t rows, columns;
};

/** A new pty of the caller's /dev/ptmx (the container's devpts, once in its root), of `size`: its master. */
int open_console(const struct console_size *size);
/** In the process about to exec: a session of its own, the pty of `master` its controlling terminal and stdio. */
void take_console(int master);
/** Passes `fd` over the unix socket `socket` (SCM_RIGHTS); fails the start when it cannot. */
void send_fd(int socket, int fd);
/** The fd passed over `socket`; -1 when none came. */
int receive_fd(int socket);

/** What run_relay passes between the daemon and the container's process (-1: none of that fd). */
struct relay {
  /** Read until they end; a pty master is outputs[0] (the process's stdout and stderr in one). */
  int outputs[2];
  void (*on_output)(int stream, const char *data, size_t length, void *context);
  void *context;
  /** The daemon's frames (see console.c). */
  int control;
  /** Where stdin data goes: the pty master or the process's stdin pipe. */
  int input;
  /** The pty master, for resizes. */
  int console;
  /** A pidfd of the process: once it fires, the outputs are drained and the relay ends; without one, the outputs' end ends it. */
  int exited;
};

/** Relays until the outputs have ended (or the process has, with `exited`). */
void run_relay(struct relay *relay);

#endif
