// Which namespaces this process may create. unshare() changes the caller, so each one is tried in a forked
// child that does nothing else and exits with 0 or the errno; the parent waits a bounded time and kills
// what is still there, so a probe can neither hang the check nor outlive it.
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>

#include "sandbox/host_probe.h"
#include "sandbox/user_namespace.h"

namespace hutch {
namespace {

constexpr int kProbeTimeoutMs = 2000;

// Reaps pid within kProbeTimeoutMs, else SIGKILLs and reaps it. The wait status, or -1 after a kill.
int wait_bounded(pid_t pid) {
  int status = 0;
  for (int waited_ms = 0; waited_ms < kProbeTimeoutMs; ++waited_ms) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return -1;
    timespec one_ms{0, 1000000};
    ::nanosleep(&one_ms, nullptr);
  }
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return -1;
}

Status try_unshare(const std::string &flag_name, int flag) {
  std::string what = "unshare(" + flag_name + ")";
  pid_t pid = ::fork();
  if (pid < 0) return fail(errno_error("fork for " + what));
  if (pid == 0) {
    // Child: async-signal-safe calls only. errno values fit an exit code.
    _exit(::unshare(flag) == 0 ? 0 : errno);
  }
  int status = wait_bounded(pid);
  if (status == -1) return fail(make_error(what + ": the probe did not finish within 2 s"));
  if (WIFSIGNALED(status))
    return fail(make_error(what + ": the probe died of signal " + std::to_string(WTERMSIG(status))));
  int error = WEXITSTATUS(status);
  if (error != 0) return fail(errno_error(error, what));
  return {};
}

}  // namespace

NamespaceFindings probe_namespaces() {
  struct Kind {
    const char *name;
    const char *flag_name;
    int flag;
  };
  static const Kind kKinds[] = {
      {"pid", "CLONE_NEWPID", CLONE_NEWPID}, {"mount", "CLONE_NEWNS", CLONE_NEWNS},
      {"net", "CLONE_NEWNET", CLONE_NEWNET}, {"ipc", "CLONE_NEWIPC", CLONE_NEWIPC},
      {"uts", "CLONE_NEWUTS", CLONE_NEWUTS}, {"cgroup", "CLONE_NEWCGROUP", CLONE_NEWCGROUP},
      {"user", "CLONE_NEWUSER", CLONE_NEWUSER},
  };
  NamespaceFindings found;
  // Without root, hutchd creates every namespace of a job from inside a user namespace of its own.
  found.inside_user_namespace = ::geteuid() != 0;
  for (const Kind &kind : kKinds) {
    bool inside = found.inside_user_namespace && kind.flag != CLONE_NEWUSER;
    std::string flag_name = inside ? std::string("CLONE_NEWUSER|") + kind.flag_name : kind.flag_name;
    found.probes.push_back({kind.name, kind.flag, try_unshare(flag_name, kind.flag | (inside ? CLONE_NEWUSER : 0))});
  }
  UserNamespaceSwitches switches = read_user_namespace_switches();
  found.max_user_namespaces = switches.max_user_namespaces;
  found.unprivileged_userns_clone = switches.unprivileged_userns_clone;
  return found;
}

}  // namespace hutch
