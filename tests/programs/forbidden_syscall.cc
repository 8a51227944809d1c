// forbidden_syscall: {"call": "ptrace"} makes that raw system call with arguments that do nothing harmful
// even when it is allowed (a missing path, a bad fd, a wrong magic number, zero lengths). If the call returns
// at all, it prints "<call> returned <ret> errno <errno>" and exits 3, so a test tells a seccomp kill
// (SIGSYS) from a denial (EPERM) from a filter that let it through. `getpid` is the allowed control.
// Besides the kill set, a few calls the default policy answers otherwise (quotactl, clone3, clone with a
// namespace flag) and one through the x32 ABI.
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/quota.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "tests/programs/program_input.h"

namespace {

constexpr const char *kMissingPath = "/nonexistent-hutch-forbidden-syscall";

struct Call {
  const char *name;
  long (*make)();
};

// Each entry says why its arguments are harmless if the kernel lets the call through.
constexpr Call kCalls[] = {
    {"getpid", [] { return syscall(SYS_getpid); }},
    // pid 0 is never a tracee: ESRCH.
    {"ptrace", [] { return syscall(SYS_ptrace, PTRACE_PEEKDATA, 0, nullptr, nullptr); }},
    // Zero iovecs on our own pid: copies nothing.
    {"process_vm_readv", [] { return syscall(SYS_process_vm_readv, getpid(), nullptr, 0, nullptr, 0, 0); }},
    {"process_vm_writev", [] { return syscall(SYS_process_vm_writev, getpid(), nullptr, 0, nullptr, 0, 0); }},
    // A target that does not exist: ENOENT.
    {"mount", [] { return syscall(SYS_mount, "none", kMissingPath, "tmpfs", 0, nullptr); }},
    {"umount2", [] { return syscall(SYS_umount2, kMissingPath, 0); }},
    {"pivot_root", [] { return syscall(SYS_pivot_root, kMissingPath, kMissingPath); }},
    {"open_by_handle_at", [] { return syscall(SYS_open_by_handle_at, -1, nullptr, O_RDONLY); }},
    // A bad fd: EBADF.
    {"setns", [] { return syscall(SYS_setns, -1, 0); }},
    // No flags: a new nothing.
    {"unshare", [] { return syscall(SYS_unshare, 0); }},
    // Wrong magic numbers: EINVAL even for root.
    {"reboot", [] { return syscall(SYS_reboot, 0, 0, 0, nullptr); }},
    // More segments than KEXEC_SEGMENT_MAX: EINVAL before anything is loaded or unloaded.
    {"kexec_load", [] { return syscall(SYS_kexec_load, 0, 1000, nullptr, 0); }},
    // An unknown flag bit: EINVAL before the unload/load logic.
    {"kexec_file_load", [] { return syscall(SYS_kexec_file_load, -1, -1, 0, nullptr, 0x80000000UL); }},
    // The new mount API: an O_PATH handle of a missing path, so ENOENT; nothing is cloned or attached.
    {"open_tree", [] { return syscall(SYS_open_tree, -1, kMissingPath, 0); }},
    {"swapon", [] { return syscall(SYS_swapon, kMissingPath, 0); }},
    {"swapoff", [] { return syscall(SYS_swapoff, kMissingPath); }},
    // An empty image: ENOEXEC.
    {"init_module", [] { return syscall(SYS_init_module, nullptr, 0, ""); }},
    {"finit_module", [] { return syscall(SYS_finit_module, -1, "", 0); }},
    {"delete_module", [] { return syscall(SYS_delete_module, "hutch_no_such_module", O_NONBLOCK); }},
    // BPF_MAP_CREATE with an all-zero attribute (map type UNSPEC): EINVAL.
    {"bpf", [] { return syscall(SYS_bpf, 0, nullptr, 0); }},
    // A null attribute: EFAULT.
    {"perf_event_open", [] { return syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0); }},
    // Succeeds with a new fd when allowed; closed below by process exit.
    {"userfaultfd", [] { return syscall(SYS_userfaultfd, O_CLOEXEC); }},
    // A key serial that does not exist: ENOKEY.
    {"keyctl", [] { return syscall(SYS_keyctl, KEYCTL_DESCRIBE, 0x7fffffff, nullptr, 0); }},
    // A key type that does not exist: ENODEV.
    {"add_key", [] { return syscall(SYS_add_key, "hutch_no_such_type", "hutch", nullptr, 0, KEY_SPEC_PROCESS_KEYRING); }},
    {"request_key", [] { return syscall(SYS_request_key, "hutch_no_such_type", "hutch", nullptr, 0); }},
    // Left out of the default policy (EPERM there). A mount point that does not exist: ENOENT when it runs,
    // before any capability check.
    {"quotactl", [] { return syscall(SYS_quotactl, QCMD(Q_GETFMT, USRQUOTA), kMissingPath, 0, nullptr); }},
    // clone3 answers ENOSYS under the policy; run, a size below the smallest struct is EINVAL.
    {"clone3", [] { return syscall(SYS_clone3, nullptr, 0); }},
    // clone with a namespace flag fails with EPERM under the policy; run, CLONE_NEWUSER with CLONE_FS is
    // EINVAL before anything is created.
    {"clone_newuser", [] { return syscall(SYS_clone, CLONE_NEWUSER | CLONE_FS | SIGCHLD, 0, nullptr, nullptr, 0); }},
    // getpid through the x32 ABI (bit 30 of the number): a foreign ABI, which the filter kills. This
    // kernel may lack x32 altogether, which would answer ENOSYS, so a return means the filter let it by.
    {"x32_getpid", [] { return syscall(0x40000000 | SYS_getpid); }},
};

}  // namespace

int main() {
  constexpr const char *kProgram = "forbidden_syscall";
  auto input = hutch::programs::input_or_exit(kProgram);
  std::string name = hutch::programs::string_param(kProgram, input, "call", "ptrace");
  for (const auto &call : kCalls) {
    if (name != call.name) continue;
    std::printf("calling %s\n", call.name);
    std::fflush(stdout);
    errno = 0;
    long returned = call.make();
    int saved_errno = returned == -1 ? errno : 0;
    std::printf("%s returned %ld errno %d\n", call.name, returned, saved_errno);
    std::fflush(stdout);
    hutch::programs::write_result_or_exit(
        kProgram, {{"call", call.name}, {"returned", returned}, {"errno", saved_errno}});
    return 3;
  }
  std::string known;
  for (const auto &call : kCalls) known += std::string(known.empty() ? "" : ", ") + call.name;
  hutch::programs::exit_bad_input(kProgram, "call: '" + name.substr(0, 64) + "' is not one of " + known);
}
