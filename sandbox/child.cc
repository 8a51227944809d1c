// The child side of spawn: the containment steps in order, one line each. Only async-signal-safe calls
// from here to execve (see child_plan.h). On failure the child writes {stage, errno} to the report pipe and
// exits 127; the parent turns that into the record's error sentence.
//
// The child of a raw clone of a multi-threaded process inherits glibc's state as the cloning thread saw it
// (other threads' locks held, the "multi-threaded" flag set) without glibc's fork handlers running. So the
// glibc calls here, in namespaces.cc and in mounts.cc are only those that are a plain system call with no
// lock and no process-wide state (checked against glibc 2.36: prctl, poll, getppid, sigaction, sigprocmask,
// setrlimit, fcntl, dup2, chdir, setsid, vfork, waitpid, write, execve, _exit, unshare, setns, mount,
// move_mount, sethostname). The set*id family is not one: in a process that has had threads it takes the
// "setxid" path, which takes a lock and signals every other thread to change its credentials too, so
// drop_identity makes the system calls itself.
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "sandbox/child_plan.h"
#include "sandbox/input_files.h"
#include "sandbox/namespaces.h"

namespace hutch {
namespace {

[[noreturn]] void report_and_exit(const ChildPlan &plan, ChildStage stage) {
  ChildReport report{stage, errno};
  // A failed write leaves the parent with EOF plus exit 127; nothing better is possible here.
  ssize_t ignored = ::write(plan.report_fd, &report, sizeof report);
  (void)ignored;
  ::_exit(127);
}

bool die_with_parent(const ChildPlan &plan) {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return false;
  // The supervisor may have died before prctl: then nothing would ever kill us, so we must not run.
  if (plan.supervisor_pidfd >= 0) {
    struct pollfd supervisor = {plan.supervisor_pidfd, POLLIN, 0};
    if (::poll(&supervisor, 1, 0) != 0) {  // readable: it exited (or poll failed: assume the worst)
      errno = ESRCH;
      return false;
    }
    return true;
  }
  if (::getppid() != plan.parent_pid) {
    errno = ESRCH;
    return false;
  }
  return true;
}

// PID 1 of the job's PID namespace. It holds nothing of the job's (no pipe a reader waits on), reaps every
// process re-parented to it, and when the function ends reports its wait status and exits, which makes the
// kernel kill whatever is left in the namespace. The function cannot signal it: from inside its namespace
// an init gets only the signals it handles (none), and as root it is another uid as well (in hutchd's user
// namespace it is the same uid, but holds capabilities there that the function lacks, so no ptrace either).
[[noreturn]] void run_init(const ChildPlan &plan, pid_t function_pid) {
  if (plan.report_fd > 0) ::syscall(SYS_close_range, 0U, static_cast<unsigned>(plan.report_fd - 1), 0U);
  ::syscall(SYS_close_range, static_cast<unsigned>(plan.report_fd + 1), ~0U, 0U);
  for (;;) {
    int status = 0;
    pid_t reaped = ::waitpid(-1, &status, 0);
    if (reaped == function_pid) {
      ChildReport report{ChildStage::kFunctionEnded, status};
      ssize_t ignored = ::write(plan.report_fd, &report, sizeof report);
      (void)ignored;
      ::_exit(0);
    }
    if (reaped < 0 && errno != EINTR) ::_exit(0);
  }
}

bool reset_signals() {
  // Dispositions survive fork and a SIG_IGN survives exec: a function must start with the defaults.
  struct sigaction action = {};
  action.sa_handler = SIG_DFL;
  for (int signal_number = 1; signal_number < NSIG; ++signal_number) {
    if (signal_number == SIGKILL || signal_number == SIGSTOP) continue;
    ::sigaction(signal_number, &action, nullptr);  // fails harmlessly for the signals glibc reserves
  }
  sigset_t empty;
  ::sigemptyset(&empty);
  return ::sigprocmask(SIG_SETMASK, &empty, nullptr) == 0;
}

bool join_cgroups(const ChildPlan &plan) {
  for (int i = 0; i < plan.cgroup_procs_count; ++i) {
    if (::write(plan.cgroup_procs_fds[i], "0", 1) != 1) return false;
  }
  return true;
}

bool apply_rlimits(const ChildPlan &plan) {
  for (int i = 0; i < plan.rlimit_count; ++i) {
    if (::setrlimit(static_cast<__rlimit_resource>(plan.rlimits[i].resource), &plan.rlimits[i].limit) != 0)
      return false;
  }
  return true;
}

// Moves `fd` to `target`, clearing close-on-exec. A source already sitting on a low target number is first
// moved out of the way so that installing one target cannot clobber another's source.
bool install_fd(int fd, int target) {
  if (fd == target) return ::fcntl(fd, F_SETFD, 0) == 0;
  return ::dup2(fd, target) == target;
}

bool install_stdio(const ChildPlan &plan) {
  int sources[4] = {plan.stdin_fd, plan.stdout_fd, plan.stderr_fd, plan.result_fd};
  for (int &source : sources) {
    if (source >= 0 && source < 4) {
      source = ::fcntl(source, F_DUPFD_CLOEXEC, 4);
      if (source < 0) return false;
    }
  }
  for (int target = 0; target < 4; ++target) {
    if (sources[target] < 0) continue;
    if (!install_fd(sources[target], target)) return false;
  }
  // Everything above fd 3 closes at exec (the report pipe must stay open until then).
  if (::syscall(SYS_close_range, 4U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return true;
  for (int fd = 4; fd < 65536; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);  // kernels before 5.11
  return true;
}

// While still root (these need CAP_SETPCAP): empty the bounding and ambient sets, so no exec can ever
// grant a capability again, and lock the securebits so that uid 0 means nothing special to the kernel and
// the capability-dropping fix-up on the uid change below cannot be turned off.
bool lock_capabilities() {
  for (int capability = 0; capability <= CAP_LAST_CAP; ++capability) {
    if (::prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 && errno != EINVAL) return false;
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return false;
  return ::prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
                                        SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
                                        SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
                 0, 0, 0) == 0;
}

// Empties the permitted, effective and inheritable sets. The uid change from root does that by itself; in a
// user namespace the function's uid is the one hutchd is mapped to, never root, so nothing else would.
bool clear_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = {};
  return ::syscall(SYS_capset, &header, none) == 0;
}

bool drop_identity(const ChildPlan &plan) {
  if (!plan.change_identity) return true;
  if (!lock_capabilities()) return false;
  // Order: supplementary groups and gid while still root, uid last; after setresuid the capability sets
  // are empty (no SECBIT_KEEP_CAPS), so nothing can be taken back.
  // Raw system calls, not glibc's (see the top of this file); the kernel's are per thread, and this process
  // has one.
  if (!plan.in_user_namespace && ::syscall(SYS_setgroups, 0, nullptr) != 0) return false;
  if (::syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0) return false;
  if (::syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0) return false;
  return clear_capabilities();
}

bool install_seccomp(const ChildPlan &plan) {
  if (plan.seccomp_program == nullptr) return true;
  return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, plan.seccomp_program) == 0;
}

void exec_function(const ChildPlan &plan) {
  if (plan.exec_fd >= 0) {
    ::syscall(SYS_execveat, plan.exec_fd, "", plan.argv, plan.envp, AT_EMPTY_PATH);
  } else {
    ::execve(plan.exec_path, plan.argv, plan.envp);
  }
}

}  // namespace

void child_run(const ChildPlan &plan) {
  if (!die_with_parent(plan)) report_and_exit(plan, ChildStage::kParentGone);
  if (!reset_signals()) report_and_exit(plan, ChildStage::kSignals);
  if (!join_cgroups(plan)) report_and_exit(plan, ChildStage::kCgroup);  // before exec: no escape window
  if (plan.new_namespaces) {
    ChildStage failed = enter_sandbox_namespaces(plan);
    if (failed != ChildStage::kNone) report_and_exit(plan, failed);
    // Written by the init, in the job's cgroup: the job's memory pays for its inputs (input_files.h).
    if (!copy_input_files(plan)) report_and_exit(plan, ChildStage::kInputFiles);
    // This process stays as the namespace's init; the child becomes the function. vfork: the child makes
    // only system calls until exec (its credentials, rlimits, fd table and cwd are its own), so sharing
    // memory until then is safe and saves copying the page tables (measured: fork added ~170 us per job).
    pid_t function = ::vfork();
    if (function < 0) report_and_exit(plan, ChildStage::kInit);
    if (function > 0) run_init(plan, function);
  }
  if (::setsid() < 0) report_and_exit(plan, ChildStage::kSession);  // own session and process group
  if (!apply_rlimits(plan)) report_and_exit(plan, ChildStage::kRlimits);
  if (!install_stdio(plan)) report_and_exit(plan, ChildStage::kFds);
  if (::chdir(plan.working_directory) != 0) report_and_exit(plan, ChildStage::kWorkingDirectory);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) report_and_exit(plan, ChildStage::kNoNewPrivs);
  // Privilege drops here: from this line on the child is an unprivileged uid with no capabilities.
  if (!drop_identity(plan)) report_and_exit(plan, ChildStage::kIdentity);
  // Seccomp last, so the policy never has to allow the set-up calls above.
  if (!install_seccomp(plan)) report_and_exit(plan, ChildStage::kSeccomp);
  exec_function(plan);
  report_and_exit(plan, ChildStage::kExec);
}

const char *child_stage_description(ChildStage stage) {
  switch (stage) {
    case ChildStage::kNone: return "set up the sandbox";
    case ChildStage::kParentGone: return "tie the sandbox to the supervisor's life";
    case ChildStage::kSession: return "start a new session";
    case ChildStage::kSignals: return "reset signal handling";
    case ChildStage::kCgroup: return "join the job's cgroup";
    case ChildStage::kRlimits: return "set resource limits";
    case ChildStage::kFds: return "set up stdin, stdout, stderr and the result fd";
    case ChildStage::kWorkingDirectory: return "enter the working directory";
    case ChildStage::kNoNewPrivs: return "set no_new_privs";
    case ChildStage::kIdentity: return "switch to the sandbox user";
    case ChildStage::kSeccomp: return "install the seccomp filter";
    case ChildStage::kExec: return "execute the function";
    case ChildStage::kInit: return "start the function under the namespace's init";
    case ChildStage::kFunctionEnded: return "report how the function ended";
    case ChildStage::kInputFiles: return "write the input files into $HUTCH_IN";
    case ChildStage::kJoinRootSkeleton: return "join the root skeleton's mount namespace";
    case ChildStage::kUnshareMounts: return "give the job a mount namespace of its own";
    case ChildStage::kPrivateMounts: return "make the job's mounts private";
    case ChildStage::kMountProc: return "mount /proc in the job's namespace";
    case ChildStage::kMountTmp: return "mount the job's /tmp";
    case ChildStage::kAttachPackage: return "attach the function's package at /function";
    case ChildStage::kAttachWorkingDirectory: return "attach the job's working directory at /work";
    case ChildStage::kMountWorkingDirectory: return "mount the job's /work";
    case ChildStage::kHostname: return "name the job's host";
    case ChildStage::kJoinNetwork: return "join the slot's empty network namespace";
  }
  return "set up the sandbox";
}

}  // namespace hutch
