// Attack: the system calls that reach past the job, each with the arguments an attacker would use, one per
// job: {"call": "ptrace"} and so on. The seccomp filter kills the process (SIGSYS) or denies the call
// (EPERM); behind it, the missing capabilities deny most of them again. If the call returns, the program
// reports {"call", "returned", "errno", "effect"} on fd 3, where effect says whether anything changed
// (a tracee attached, a mount over /tmp, a new namespace, a kernel object made), and exits 0 when the call
// failed, 3 when it succeeded. It prints "calling <call>" first, so a kill is known to come from the call.
// reboot and kexec use a real magic number with a command (or flags) the kernel rejects after its
// permission check: a sandbox that wrongly had the privilege gets EINVAL, never a reboot.
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/reboot.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "tests/programs/program_input.h"
#include "tests/security/attempt.h"

namespace {

constexpr const char *kMarker = "/tmp/hutch-attack-marker";

ino_t inode_of(const char *path) {
  struct stat info {};
  return ::stat(path, &info) == 0 ? info.st_ino : 0;
}

bool exists(const char *path) {
  struct stat info {};
  return ::stat(path, &info) == 0;
}

struct Attempt {
  long returned = -1;
  int error = 0;
  bool effect = false;
};

// Call right after the attempt, before anything else can change errno.
Attempt failed_or_not(long returned) {
  return {returned, returned < 0 ? errno : 0, returned >= 0};
}

Attempt attack_ptrace() {
  // The job's init runs as root: a tracer there would own the job's pid 1.
  Attempt attempt = failed_or_not(::syscall(SYS_ptrace, PTRACE_ATTACH, 1, nullptr, nullptr));
  if (attempt.effect) ::syscall(SYS_ptrace, PTRACE_DETACH, 1, nullptr, nullptr);
  return attempt;
}

Attempt attack_mount() {
  // A tmpfs over /tmp would hide the marker.
  Attempt attempt = failed_or_not(::syscall(SYS_mount, "none", "/tmp", "tmpfs", 0UL, "size=1m"));
  attempt.effect = !exists(kMarker);
  return attempt;
}

Attempt attack_unshare() {
  // A user namespace makes the caller root inside it: the usual first step of a kernel exploit.
  ino_t before = inode_of("/proc/self/ns/user");
  Attempt attempt = failed_or_not(::syscall(SYS_unshare, CLONE_NEWUSER));
  attempt.effect = inode_of("/proc/self/ns/user") != before;
  return attempt;
}

Attempt attack_setns() {
  // The init's mount namespace if the kernel lets us open it, else our own: joining needs CAP_SYS_ADMIN either way.
  int fd = ::open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);
  if (fd < 0) fd = ::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  ino_t before = inode_of("/proc/self/ns/mnt");
  Attempt attempt = failed_or_not(::syscall(SYS_setns, fd, 0));
  attempt.effect = attempt.effect || inode_of("/proc/self/ns/mnt") != before;
  ::close(fd);
  return attempt;
}

Attempt attack_bpf() {
  // The smallest real map: a kernel object any later BPF program could use.
  bpf_attr attr{};
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  return failed_or_not(::syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr));
}

Attempt attack_keyctl() {
  // The user keyring is shared by every process of a uid: with it, jobs on the same slot could hand each
  // other secrets, one after the other.
  return failed_or_not(::syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 1));
}

Attempt attack_reboot() {
  constexpr unsigned kNoSuchCommand = 0x7EADBEEF;
  return failed_or_not(::syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, kNoSuchCommand, nullptr));
}

Attempt attack_kexec_load() {
  constexpr unsigned long kTooManySegments = 1000;  // KEXEC_SEGMENT_MAX is 16
  return failed_or_not(::syscall(SYS_kexec_load, 0UL, kTooManySegments, nullptr, 0UL));
}

Attempt attack_kexec_file_load() {
  constexpr unsigned long kNoSuchFlag = 0x80000000UL;
  return failed_or_not(::syscall(SYS_kexec_file_load, -1, -1, 0UL, "", kNoSuchFlag));
}

struct Call {
  const char *name;
  Attempt (*attack)();
};

constexpr Call kCalls[] = {
    {"ptrace", attack_ptrace},
    {"mount", attack_mount},
    {"unshare", attack_unshare},
    {"setns", attack_setns},
    {"bpf", attack_bpf},
    {"keyctl", attack_keyctl},
    {"reboot", attack_reboot},
    {"kexec_load", attack_kexec_load},
    {"kexec_file_load", attack_kexec_file_load},
};

}  // namespace

int main() {
  constexpr const char *kProgram = "privileged_calls";
  auto input = hutch::programs::input_or_exit(kProgram);
  std::string name = hutch::programs::string_param(kProgram, input, "call", "");
  for (const Call &call : kCalls) {
    if (name != call.name) continue;
    int marker = ::open(kMarker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (marker < 0) {
      std::perror("privileged_calls: cannot create the marker in /tmp");
      return 1;
    }
    ::close(marker);
    std::printf("calling %s\n", call.name);
    std::fflush(stdout);
    Attempt attempt = call.attack();
    std::string error = attempt.returned < 0 ? hutch::attack::errno_name(attempt.error) : "none";
    std::printf("%s returned %ld (%s), effect: %s\n", call.name, attempt.returned, error.c_str(),
                attempt.effect ? "yes" : "no");
    std::fflush(stdout);
    hutch::programs::write_result_or_exit(
        kProgram, {{"call", call.name}, {"returned", attempt.returned}, {"errno", error}, {"effect", attempt.effect}});
    return attempt.returned < 0 ? 0 : 3;
  }
  std::string known;
  for (const Call &call : kCalls) known += std::string(known.empty() ? "" : ", ") + call.name;
  hutch::programs::exit_bad_input(kProgram, "call: '" + name.substr(0, 64) + "' is not one of " + known);
}
