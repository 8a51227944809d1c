#include "sandbox/child_process.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace hutch {

ChildProcess &ChildProcess::operator=(ChildProcess &&other) noexcept {
  if (this != &other) {
    let_go();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
  }
  return *this;
}

void ChildProcess::kill() {
  if (!running()) return;
  // ESRCH: it has exited already (a zombie), which is what a kill wants.
  if (pidfd_) ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
}

Result<bool> ChildProcess::try_reap(int &wait_status, struct rusage &usage) {
  if (!running()) return fail(make_error("no process to reap"));
  for (;;) {
    pid_t reaped = ::wait4(pid_, &wait_status, WNOHANG, &usage);
    if (reaped == 0) return false;
    if (reaped < 0 && errno == EINTR) continue;
    // Reaped, or gone (ECHILD): never to be waited for or signalled again. The pidfd stays open while this
    // object lives: a loop may still be watching it, and it can no longer name anything.
    pid_t pid = std::exchange(pid_, -1);
    if (reaped < 0) return fail(errno_error("wait4(" + std::to_string(pid) + ")"));
    return true;
  }
}

void ChildProcess::let_go() {
  if (!running()) return;
  kill();
  // Reaped now if it is dead already; a process the kill has not finished yet stays a zombie until this
  // process exits, which is better than blocking the loop on it.
  int status = 0;
  struct rusage usage {};
  (void)try_reap(status, usage);
}

}  // namespace hutch
