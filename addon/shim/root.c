// The container's root, as runc builds it for Docker: an overlay over the image, /proc, /sys, a
// minimal /dev, the daemon's /etc files, then pivot_root into it with the host's root detached,
// and Docker's masked and read-only paths.
//
// The root's contents are the container's own: on a restart, /etc/hosts or /proc may be symlinks
// it planted to host paths. Every mount target inside the root is therefore opened with openat2
// RESOLVE_IN_ROOT (a symlink resolves as it would inside the container) and mounted onto through
// its /proc/self/fd path, so nothing outside the root can be reached.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/** A path naming what an fd is ("/proc/self/fd/N[/name]"), for the calls that only take paths (mount). */
struct fd_path {
  char text[320];
};

static struct fd_path fd_path(int fd, const char *name) {
  struct fd_path path;
  if (name) snprintf(path.text, sizeof path.text, "/proc/self/fd/%d/%s", fd, name);
  else snprintf(path.text, sizeof path.text, "/proc/self/fd/%d", fd);
  return path;
}

static void make_dir(const char *path) {
  if (mkdir(path, 0755) < 0 && errno != EEXIST) fail("mkdir %s: %s", path, strerror(errno));
}

/** `path` under the container's root, resolved as inside it; magic links (/proc/PID/root...) refused. */
static int open_in_root(int root, const char *path, int flags, mode_t mode) {
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .mode = (flags & O_CREAT) ? mode : 0, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  return (int)syscall(SYS_openat2, root, path, &how, sizeof how);
}

/** The directory /`name` of the container's root (made if missing), as an O_PATH fd. */
static int root_dir(int root, const char *name) {
  int fd = open_in_root(root, name, O_PATH | O_DIRECTORY, 0);
  if (fd < 0 && errno == ENOENT) {
    if (mkdirat(root, name, 0755) < 0) fail("/%s in the container's root: %s", name, errno == EEXIST ? "a symbolic link to nothing; remove it from the container" : strerror(errno));
    fd = open_in_root(root, name, O_PATH | O_DIRECTORY, 0);
  }
  if (fd < 0) fail("/%s in the container's root: %s", name, strerror(errno));
  return fd;
}

/** The regular file /`path` of the container's root (made if missing), as a bind target. */
static int root_file(int root, const char *path) {
  // O_NONBLOCK: a FIFO planted there must not hang the start.
  int fd = open_in_root(root, path, O_RDONLY | O_CREAT | O_NONBLOCK | O_NOCTTY, 0644);
  struct stat status;
  if (fd < 0 || fstat(fd, &status) < 0) fail("/%s in the container's root: %s", path, strerror(errno));
  if (!S_ISREG(status.st_mode)) fail("/%s in the container's root is not a regular file: remove it from the container", path);
  return fd;
}

/** Appends `text` to the overlay options with what overlayfs reads as separators (",", ":") and its escape ("\") escaped. */
static void append_option(char *options, size_t size, size_t *length, const char *text, int escape) {
  for (; *text; text++) {
    if (escape && (*text == ',' || *text == ':' || *text == '\\')) {
      if (*length + 1 < size) options[*length] = '\\';
      (*length)++;
    }
    if (*length + 1 < size) options[*length] = *text;
    (*length)++;
  }
  options[*length < size ? *length : size - 1] = 0;
}

int mount_root(const char *state, const char *rootfs, int privileged) {
  char merged[4096], upper[4096], work[4096];
  // The kernel copies at most a page of mount options.
  char options[4096];
  if ((size_t)snprintf(merged, sizeof merged, "%s/root", state) >= sizeof merged || (size_t)snprintf(upper, sizeof upper, "%s/upper", state) >= sizeof upper ||
      (size_t)snprintf(work, sizeof work, "%s/work", state) >= sizeof work) {
    fail("state directory path too long: %s", state);
  }
  make_dir(merged);
  make_dir(upper);
  make_dir(work);
  size_t length = 0;
  const char *parts[][2] = {{"lowerdir=", rootfs}, {",upperdir=", upper}, {",workdir=", work}};
  for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
    append_option(options, sizeof options, &length, parts[i][0], 0);
    append_option(options, sizeof options, &length, parts[i][1], 1);
  }
  if (length >= sizeof options) fail("the paths of the container's root (%s, %s) are too long for overlayfs's options (%zu bytes at most)", rootfs, state, sizeof options - 1);
  // nodev: with no device cgroup, a node the container makes with CAP_MKNOD must stay unusable.
  if (mount("overlay", merged, "overlay", privileged ? 0 : MS_NODEV, options) < 0) {
    fail("mount the container's root (overlayfs over %s, upper %s): %s; netctl needs overlayfs (CONFIG_OVERLAY_FS, modprobe overlay) and a state directory on a file system it can use as an upper layer (not overlayfs itself)",
         rootfs, upper, strerror(errno));
  }
  int root = open(merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) fail("open %s: %s", merged, strerror(errno));
  return root;
}

static void mount_kernel_filesystems(int root, int privileged) {
  int target = root_dir(root, "proc");
  if (mount("proc", fd_path(target, NULL).text, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) fail("mount /proc: %s", strerror(errno));
  close(target);
  target = root_dir(root, "sys");
  // sysfs shows the interfaces of the mounting namespace: the sandbox's.
  if (mount("sysfs", fd_path(target, NULL).text, "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | (privileged ? 0 : MS_RDONLY), NULL) < 0) fail("mount /sys: %s", strerror(errno));
  close(target);
  close(root_dir(root, "tmp"));
}

/**
 * One of the host's device nodes, bound onto an empty file in /dev (a fresh tmpfs, so paths
 * through its fd are the shim's own). Bound, not made with mknod: /dev is nodev, so a node the
 * container makes there is dead; read-only, so the host's inode cannot be chmod'ed or chown'ed
 * (writing to the device itself is unaffected).
 */
static void bind_device(int dev, const char *name) {
  char source[64];
  snprintf(source, sizeof source, "/dev/%s", name);
  int file = openat(dev, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (file < 0) fail("create /dev/%s: %s", name, strerror(errno));
  close(file);
  struct fd_path target = fd_path(dev, name);
  if (mount(source, target.text, NULL, MS_BIND, NULL) < 0 || mount(NULL, target.text, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) < 0) {
    fail("bind %s into the container: %s", source, strerror(errno));
  }
}

/** --privileged, as Docker: every device node of the host's /dev made anew (its own devpts and /dev/shm aside). */
static void copy_host_devices(int host, int container, const char *where) {
  DIR *entries = fdopendir(host);
  if (!entries) fail("read %s: %s", where, strerror(errno));
  for (struct dirent *entry; (entry = readdir(entries)) != NULL;) {
    const char *name = entry->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strcmp(name, "pts") == 0 || strcmp(name, "ptmx") == 0 || strcmp(name, "shm") == 0 ||
        strcmp(name, "mqueue") == 0) {
      continue;
    }
    struct stat status;
    if (fstatat(dirfd(entries), name, &status, AT_SYMLINK_NOFOLLOW) < 0) continue;  // gone meanwhile
    if (S_ISDIR(status.st_mode)) {
      int host_dir = openat(dirfd(entries), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (host_dir < 0) continue;
      if (mkdirat(container, name, status.st_mode & 07777) < 0 && errno != EEXIST) fail("mkdir /dev/%s: %s", name, strerror(errno));
      int container_dir = openat(container, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (container_dir < 0) fail("open /dev/%s: %s", name, strerror(errno));
      copy_host_devices(host_dir, container_dir, name);
      close(container_dir);
    } else if (S_ISCHR(status.st_mode) || S_ISBLK(status.st_mode)) {
      if (mknodat(container, name, status.st_mode, status.st_rdev) < 0 || fchmodat(container, name, status.st_mode & 07777, 0) < 0 ||
          fchownat(container, name, status.st_uid, status.st_gid, AT_SYMLINK_NOFOLLOW) < 0) {
        fail("mknod /dev/%s: %s", name, strerror(errno));
      }
    }
  }
  closedir(entries);
}

/** Docker's /dev: a tmpfs with null, zero, full, random, urandom and tty, a private devpts, /dev/shm and the usual links. */
static void mount_dev(int root, int privileged) {
  static const char *devices[] = {"null", "zero", "full", "random", "urandom", "tty"};
  static const char *links[][2] = {{"ptmx", "pts/ptmx"}, {"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}};
  int target = root_dir(root, "dev");
  if (mount("tmpfs", fd_path(target, NULL).text, "tmpfs", MS_NOSUID | MS_STRICTATIME | (privileged ? 0 : MS_NODEV), "mode=755,size=65536k") < 0) fail("mount /dev: %s", strerror(errno));
  close(target);
  int dev = root_dir(root, "dev");  // the tmpfs now
  if (privileged) {
    int host = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (host < 0) fail("open the host's /dev: %s", strerror(errno));
    copy_host_devices(host, dev, "/dev");
  } else {
    for (size_t i = 0; i < sizeof devices / sizeof *devices; i++) bind_device(dev, devices[i]);
  }
  if (mkdirat(dev, "pts", 0755) < 0 || mount("devpts", fd_path(dev, "pts").text, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5") < 0) {
    fail("mount /dev/pts: %s", strerror(errno));
  }
  if (mkdirat(dev, "shm", 01777) < 0 || mount("shm", fd_path(dev, "shm").text, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k") < 0) {
    fail("mount /dev/shm: %s", strerror(errno));
  }
  for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
    if (symlinkat(links[i][1], dev, links[i][0]) < 0) fail("link /dev/%s: %s", links[i][0], strerror(errno));
  }
  close(dev);
}

/** The container's own /etc/hosts, /etc/resolv.conf and /etc/hostname, written by the daemon. */
static void mount_etc(int root, const char *state) {
  static const char *files[] = {"hosts", "resolv.conf", "hostname"};
  close(root_dir(root, "etc"));
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    char source[4096], path[32];
    if ((size_t)snprintf(source, sizeof source, "%s/%s", state, files[i]) >= sizeof source) fail("state directory path too long: %s", state);
    snprintf(path, sizeof path, "etc/%s", files[i]);
    int target = root_file(root, path);
    if (mount(source, fd_path(target, NULL).text, NULL, MS_BIND, NULL) < 0) fail("bind %s on /%s: %s", source, path, strerror(errno));
    close(target);
  }
}

void populate_root(int root, const char *state, int privileged) {
  mount_kernel_filesystems(root, privileged);
  mount_dev(root, privileged);
  mount_etc(root, state);
}

void enter_root(int root) {
  int old_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (old_root < 0) fail("open /: %s", strerror(errno));
  // pivot_root(".", "."): the old root ends up stacked on the new one, and is detached from there.
  if (fchdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0) fail("pivot_root into the container's root: %s", strerror(errno));
  // The mounts are private (made so before the root was built): the detach reaches no other namespace.
  if (fchdir(old_root) < 0 || umount2(".", MNT_DETACH) < 0) fail("detach the host's root: %s", strerror(errno));
  if (chdir("/") < 0) fail("chdir /: %s", strerror(errno));
  close(old_root);
  close(root);
}

void mask_paths(void) {
  static const char *masked[] = {"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                                 "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"};
  static const char *read_only[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  for (size_t i = 0; i < sizeof masked / sizeof *masked; i++) {
    // A file gets /dev/null over it, a directory (ENOTDIR) an empty read-only tmpfs; what this kernel lacks needs nothing.
    if (mount("/dev/null", masked[i], NULL, MS_BIND, NULL) == 0 || errno == ENOENT) continue;
    if (errno != ENOTDIR || mount("tmpfs", masked[i], "tmpfs", MS_RDONLY, NULL) < 0) fail("mask %s: %s", masked[i], strerror(errno));
  }
  for (size_t i = 0; i < sizeof read_only / sizeof *read_only; i++) {
    if (mount(read_only[i], read_only[i], NULL, MS_BIND | MS_REC, NULL) < 0) {
      if (errno == ENOENT) continue;
      fail("bind %s: %s", read_only[i], strerror(errno));
    }
    if (mount(NULL, read_only[i], NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) fail("make %s read-only: %s", read_only[i], strerror(errno));
  }
}
