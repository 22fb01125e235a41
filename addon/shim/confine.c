// The container's process confined as Docker confines it: its capabilities cut to the chosen set,
// no_new_privs when asked, and a seccomp filter refusing what Docker's default profile refuses.
//
// Docker's profile is an allowlist; this filter lists the refusals instead (every system call
// Docker's profile leaves out or allows only with a capability, as dockerd 20.10 applies it), so
// a system call newer than the list is allowed here where Docker refuses it.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

#define ALWAYS (-1)

static int holds(uint64_t capabilities, int capability) {
  return capability != ALWAYS && (capabilities >> capability & 1);
}

/** Refused with EPERM unless the container holds `unless` (or `or_unless`), as in Docker's profile. */
static const struct {
  const char *name;
  int unless, or_unless;
} refusals[] = {
    {"add_key", ALWAYS, ALWAYS}, {"keyctl", ALWAYS, ALWAYS}, {"request_key", ALWAYS, ALWAYS},
    {"kexec_load", ALWAYS, ALWAYS}, {"kexec_file_load", ALWAYS, ALWAYS}, {"nfsservctl", ALWAYS, ALWAYS},
    {"pivot_root", ALWAYS, ALWAYS}, {"swapon", ALWAYS, ALWAYS}, {"swapoff", ALWAYS, ALWAYS},
    {"userfaultfd", ALWAYS, ALWAYS}, {"uselib", ALWAYS, ALWAYS}, {"ustat", ALWAYS, ALWAYS}, {"sysfs", ALWAYS, ALWAYS},
    {"_sysctl", ALWAYS, ALWAYS}, {"vm86", ALWAYS, ALWAYS}, {"vm86old", ALWAYS, ALWAYS},
    {"create_module", ALWAYS, ALWAYS}, {"get_kernel_syms", ALWAYS, ALWAYS}, {"query_module", ALWAYS, ALWAYS},
    {"afs_syscall", ALWAYS, ALWAYS}, {"getpmsg", ALWAYS, ALWAYS}, {"putpmsg", ALWAYS, ALWAYS},
    {"security", ALWAYS, ALWAYS}, {"tuxcall", ALWAYS, ALWAYS}, {"vserver", ALWAYS, ALWAYS},
    {"bpf", CAP_SYS_ADMIN, CAP_BPF}, {"perf_event_open", CAP_SYS_ADMIN, CAP_PERFMON}, {"syslog", CAP_SYS_ADMIN, CAP_SYSLOG},
    {"fanotify_init", CAP_SYS_ADMIN, ALWAYS}, {"fsconfig", CAP_SYS_ADMIN, ALWAYS}, {"fsmount", CAP_SYS_ADMIN, ALWAYS},
    {"fsopen", CAP_SYS_ADMIN, ALWAYS}, {"fspick", CAP_SYS_ADMIN, ALWAYS}, {"lookup_dcookie", CAP_SYS_ADMIN, ALWAYS},
    {"mount", CAP_SYS_ADMIN, ALWAYS}, {"mount_setattr", CAP_SYS_ADMIN, ALWAYS}, {"move_mount", CAP_SYS_ADMIN, ALWAYS},
    {"name_to_handle_at", CAP_SYS_ADMIN, ALWAYS}, {"open_tree", CAP_SYS_ADMIN, ALWAYS}, {"quotactl", CAP_SYS_ADMIN, ALWAYS},
    {"quotactl_fd", CAP_SYS_ADMIN, ALWAYS}, {"setdomainname", CAP_SYS_ADMIN, ALWAYS}, {"sethostname", CAP_SYS_ADMIN, ALWAYS},
    {"setns", CAP_SYS_ADMIN, ALWAYS}, {"umount", CAP_SYS_ADMIN, ALWAYS}, {"umount2", CAP_SYS_ADMIN, ALWAYS},
    {"unshare", CAP_SYS_ADMIN, ALWAYS},
    {"reboot", CAP_SYS_BOOT, ALWAYS}, {"chroot", CAP_SYS_CHROOT, ALWAYS},
    {"delete_module", CAP_SYS_MODULE, ALWAYS}, {"init_module", CAP_SYS_MODULE, ALWAYS}, {"finit_module", CAP_SYS_MODULE, ALWAYS},
    {"acct", CAP_SYS_PACCT, ALWAYS},
    {"kcmp", CAP_SYS_PTRACE, ALWAYS}, {"pidfd_getfd", CAP_SYS_PTRACE, ALWAYS}, {"process_madvise", CAP_SYS_PTRACE, ALWAYS},
    {"iopl", CAP_SYS_RAWIO, ALWAYS}, {"ioperm", CAP_SYS_RAWIO, ALWAYS},
    {"settimeofday", CAP_SYS_TIME, ALWAYS}, {"stime", CAP_SYS_TIME, ALWAYS}, {"clock_settime", CAP_SYS_TIME, ALWAYS},
    {"clock_settime64", CAP_SYS_TIME, ALWAYS},
    {"vhangup", CAP_SYS_TTY_CONFIG, ALWAYS},
    {"get_mempolicy", CAP_SYS_NICE, ALWAYS}, {"mbind", CAP_SYS_NICE, ALWAYS}, {"set_mempolicy", CAP_SYS_NICE, ALWAYS},
    {"set_mempolicy_home_node", CAP_SYS_NICE, ALWAYS}, {"migrate_pages", CAP_SYS_NICE, ALWAYS}, {"move_pages", CAP_SYS_NICE, ALWAYS},
    {"open_by_handle_at", CAP_DAC_READ_SEARCH, ALWAYS},
};

/** A rule making `name` fail with `error` when `condition` (if any) holds; a name this libseccomp does not know has nothing to refuse. */
static void refuse(scmp_filter_ctx filter, const char *name, int error, const struct scmp_arg_cmp *condition) {
  int number = seccomp_syscall_resolve_name(name);
  if (number == __NR_SCMP_ERROR) return;
  int rc = seccomp_rule_add_array(filter, SCMP_ACT_ERRNO(error), number, condition ? 1 : 0, condition);
  if (rc < 0) fail("seccomp rule for %s: %s", name, strerror(-rc));
}

static scmp_filter_ctx build_seccomp(uint64_t capabilities) {
  scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ALLOW);
  if (!filter) fail("seccomp: cannot make a filter");
  // libseccomp sets no_new_privs with the filter unless told not to: that is the container's own option.
  int rc = seccomp_attr_set(filter, SCMP_FLTATR_CTL_NNP, 0);
  // The 32-bit ABIs the machine also runs, as Docker's profile lists them: their calls are filtered alike.
  uint32_t native = seccomp_arch_native();
  if (rc == 0 && native == SCMP_ARCH_X86_64) rc = seccomp_arch_add(filter, SCMP_ARCH_X86) ?: seccomp_arch_add(filter, SCMP_ARCH_X32);
  if (rc == 0 && native == SCMP_ARCH_AARCH64) rc = seccomp_arch_add(filter, SCMP_ARCH_ARM);
  if (rc < 0) fail("seccomp set-up: %s", strerror(-rc));
  for (size_t i = 0; i < sizeof refusals / sizeof *refusals; i++) {
    if (!holds(capabilities, refusals[i].unless) && !holds(capabilities, refusals[i].or_unless)) refuse(filter, refusals[i].name, EPERM, NULL);
  }
  if (!holds(capabilities, CAP_SYS_ADMIN)) {
    // No new namespaces: clone with a CLONE_NEW* flag is refused; clone3 keeps its flags in memory,
    // out of a filter's sight, so it answers ENOSYS and libc falls back to clone (as in Docker).
    static const uint64_t namespaces[] = {CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET};
    for (size_t i = 0; i < sizeof namespaces / sizeof *namespaces; i++) refuse(filter, "clone", EPERM, &SCMP_A0(SCMP_CMP_MASKED_EQ, namespaces[i], namespaces[i]));
    refuse(filter, "clone3", ENOSYS, NULL);
  }
  // personality: only what Docker's profile allows (PER_LINUX 0, PER_LINUX32 8, UNAME26 0x20000 with
  // either, the query 0xffffffff) of the 32 bits the kernel reads. A rule compares an argument
  // once, so "none of those" is spelt in bits: bit 0 set and another clear (every odd value but the
  // query), or bit 0 clear and a bit other than 3 and 17 set.
  for (uint32_t bit = 1; bit < 32; bit++) {
    refuse(filter, "personality", EPERM, &SCMP_A0_32(SCMP_CMP_MASKED_EQ, 1U | 1U << bit, 1U));
    if (bit != 3 && bit != 17) refuse(filter, "personality", EPERM, &SCMP_A0_32(SCMP_CMP_MASKED_EQ, 1U | 1U << bit, 1U << bit));
  }
  return filter;
}

/** The whole of `fd` from its start, as BPF instructions; 0 when it holds no whole program. */
static int read_program(int fd, struct sock_fprog *program) {
  struct sock_filter *code = malloc(BPF_MAXINSNS * sizeof *code);
  if (!code) fail("seccomp: out of memory");
  size_t length = 0;
  for (ssize_t n; length < BPF_MAXINSNS * sizeof *code && (n = pread(fd, (char *)code + length, BPF_MAXINSNS * sizeof *code - length, (off_t)length)) > 0;) length += (size_t)n;
  if (length == 0 || length % sizeof *code != 0) {
    free(code);
    return 0;
  }
  *program = (struct sock_fprog){(unsigned short)(length / sizeof *code), code};
  return 1;
}

void prepare_seccomp(struct confinement *confinement) {
  if (confinement->privileged) return;
  // Named by the capability set and by this shim's build: a rebuilt shim may refuse other calls.
  char cached[4096] = "", temporary[4200];
  struct stat self;
  if (confinement->seccomp_cache && stat("/proc/self/exe", &self) == 0) {
    snprintf(cached, sizeof cached, "%s/%llx-%llx-%llx-%llx.bpf", confinement->seccomp_cache, (unsigned long long)confinement->capabilities, (unsigned long long)self.st_ino,
             (unsigned long long)self.st_mtim.tv_sec * 1000000000ULL + (unsigned long long)self.st_mtim.tv_nsec, (unsigned long long)self.st_size);
  }
  int fd = cached[0] ? open(cached, O_RDONLY | O_CLOEXEC) : -1;
  int found = fd >= 0 && read_program(fd, &confinement->filter);
  if (fd >= 0) close(fd);
  if (found) return;
  // Built, then kept where the next start finds it whole (written aside, then renamed).
  snprintf(temporary, sizeof temporary, "%s.%d", cached, (int)getpid());
  fd = cached[0] ? open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
  if (fd < 0) fd = memfd_create("seccomp", MFD_CLOEXEC);
  if (fd < 0) fail("seccomp: no file to build the filter in: %s", strerror(errno));
  scmp_filter_ctx filter = build_seccomp(confinement->capabilities);
  int rc = seccomp_export_bpf(filter, fd);
  seccomp_release(filter);
  if (rc < 0 || !read_program(fd, &confinement->filter)) fail("seccomp: cannot build the filter: %s", strerror(rc < 0 ? -rc : EINVAL));
  close(fd);
  if (cached[0] && rename(temporary, cached) < 0) unlink(temporary);
}

/** The bounding set cut to `keep` (a capability past the kernel's last answers EINVAL: the end), and the ambient set emptied. */
static void bound_capabilities(uint64_t keep) {
  for (int capability = 0; capability < 64; capability++) {
    if (holds(keep, capability)) continue;
    if (prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) == 0) continue;
    if (errno == EINVAL) break;
    fail("drop capability %d from the bounding set: %s", capability, strerror(errno));
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) fail("clear the ambient capabilities: %s", strerror(errno));
}

/** Permitted = effective = `keep`, inheritable empty (as Docker since CVE-2022-24769). */
static void set_capabilities(uint64_t keep) {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct sets[2] = {{(uint32_t)keep, (uint32_t)keep, 0}, {(uint32_t)(keep >> 32), (uint32_t)(keep >> 32), 0}};
  if (syscall(SYS_capset, &header, sets) < 0) fail("set capabilities %llx: %s (capabilities the daemon does not hold cannot be given)", (unsigned long long)keep, strerror(errno));
}

void confine(const struct confinement *confinement) {
  bound_capabilities(confinement->capabilities);
  if (confinement->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("no_new_privs: %s", strerror(errno));
  // Loaded while CAP_SYS_ADMIN is still held (what the kernel asks without no_new_privs); only
  // capset and execve follow.
  if (!confinement->privileged && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &confinement->filter) < 0) fail("load the seccomp filter: %s", strerror(errno));
  set_capabilities(confinement->capabilities);
}
