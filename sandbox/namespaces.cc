#include "sandbox/namespaces.h"

#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "sandbox/mounts.h"
#include "sandbox/user_namespace.h"
#include <string>

namespace hutch {
namespace {

// In the helper child only (async-signal-safe).
bool bring_loopback_up() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  struct ifreq request {};
  std::memcpy(request.ifr_name, "lo", 3);
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &request) == 0;
  request.ifr_flags |= IFF_UP | IFF_RUNNING;
  ok = ok && ::ioctl(fd, SIOCSIFFLAGS, &request) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

Result<UniqueFd> hold_namespace_built_by_helper(const char *kind, const std::function<int()> &build) {
  int ready[2], release[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return fail(errno_error("pipe2"));
  UniqueFd ready_read(ready[0]), ready_write(ready[1]);  // owned before the second pipe2 can fail
  if (::pipe2(release, O_CLOEXEC) != 0) return fail(errno_error("pipe2"));
  UniqueFd release_read(release[0]), release_write(release[1]);
  pid_t pid = ::fork();
  if (pid < 0) return fail(errno_error("fork"));
  if (pid == 0) {
    // Our copy of the release pipe's write end goes first, or the read below would never see EOF.
    release_write.reset();
    ready_read.reset();
    int error = build();
    ssize_t ignored = ::write(ready_write.get(), &error, sizeof error);
    char byte;
    ignored = ::read(release_read.get(), &byte, 1);  // stay until the parent holds the namespace
    (void)ignored;
    ::_exit(0);
  }
  ready_write.reset();
  release_read.reset();
  int error = -1;
  ssize_t n = ::read(ready_read.get(), &error, sizeof error);
  UniqueFd namespace_fd;
  if (n == sizeof error && error == 0) {
    std::string path = "/proc/" + std::to_string(pid) + "/ns/" + kind;
    namespace_fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!namespace_fd) error = errno;
  }
  release_write.reset();  // the helper reads EOF and exits
  ::waitpid(pid, nullptr, 0);
  if (n != sizeof error) return fail(make_error(std::string("the ") + kind + " namespace helper died before reporting"));
  if (error != 0) return fail(errno_error(error, std::string("build the ") + kind + " namespace"));
  return namespace_fd;
}

Result<UniqueFd> make_empty_network_namespace(int user_namespace_fd) {
  return hold_namespace_built_by_helper("net", [user_namespace_fd] {
    if (user_namespace_fd >= 0) {
      if (int error = enter_user_namespace(user_namespace_fd)) return error;
    }
    if (::unshare(CLONE_NEWNET) != 0) return errno;
    return bring_loopback_up() ? 0 : errno;
  });
}

ChildStage enter_sandbox_namespaces(const ChildPlan &plan) {
  if (plan.root_skeleton_fd >= 0) {
    if (ChildStage failed = enter_job_root(plan); failed != ChildStage::kNone) return failed;
  } else {
    // Without a skeleton: a copy of the host's mounts, made private first so nothing the job mounts
    // propagates back, with a /proc of the job's own PID namespace.
    if (::unshare(CLONE_NEWNS) != 0) return ChildStage::kUnshareMounts;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return ChildStage::kPrivateMounts;
    if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) return ChildStage::kMountProc;
  }
  if (::sethostname(kSandboxHostname, sizeof kSandboxHostname - 1) != 0) return ChildStage::kHostname;
  if (plan.network_namespace_fd >= 0 && ::setns(plan.network_namespace_fd, CLONE_NEWNET) != 0)
    return ChildStage::kJoinNetwork;
  return ChildStage::kNone;
}

}  // namespace hutch
