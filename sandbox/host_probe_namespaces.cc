// Which namespaces this process may create. unshare() changes the caller, so each one is tried in a forked
// child that does nothing else and exits with 0 or the errno; the parent waits a bounded time and kills
// what is still there, so a probe can neither hang the check nor outlive it.
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>

#include "common/file_io.h"
#include "sandbox/host_probe.h"

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

std::optional<long> read_number(const std::string &path) {
  auto text = read_file(path, 64);
  if (!text) return std::nullopt;  // absent on this kernel: the caller reports it as not present
  char *end = nullptr;
  long value = std::strtol(text->c_str(), &end, 10);
  if (end == text->c_str()) return std::nullopt;
  return value;
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
  for (const Kind &kind : kKinds) found.probes.push_back({kind.name, kind.flag, try_unshare(kind.flag_name, kind.flag)});
  found.max_user_namespaces = read_number("/proc/sys/user/max_user_namespaces");
  found.unprivileged_userns_clone = read_number("/proc/sys/kernel/unprivileged_userns_clone");
  return found;
}

}  // namespace hutch
