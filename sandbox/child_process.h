// One child process of hutchd, owned: its pid, and a pidfd that names it for as long as it is not reaped.
//
// A pid may be signalled only until it is reaped (the number is free for reuse after), and a child nobody
// reaps stays a zombie. So one owner signals it through the pidfd, reaps it without ever blocking (the owner
// runs on hutchd's event loop), and when let go while the process still lives, kills it and reaps it only
// if it is dead already. An owner on the loop that needs it reaped waits for the pidfd to become readable
// (supervisor/execution.cc), or tries again on a timer.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <utility>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hutch {

class ChildProcess {
 public:
  ChildProcess() = default;
  // `pidfd` must name `pid`, a child of this process not yet reaped.
  ChildProcess(pid_t pid, UniqueFd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
  ChildProcess(ChildProcess &&other) noexcept
      : pid_(std::exchange(other.pid_, -1)), pidfd_(std::move(other.pidfd_)) {}
  ChildProcess &operator=(ChildProcess &&other) noexcept;
  ChildProcess(const ChildProcess &) = delete;
  ChildProcess &operator=(const ChildProcess &) = delete;
  // Kills a process still running and reaps it if it is dead already; never waits.
  ~ChildProcess() { let_go(); }

  // -1 once reaped (or when empty).
  pid_t pid() const { return pid_; }
  // Open as long as this object lives, reaped or not, so that a poll on it can be stopped first.
  int pidfd() const { return pidfd_.get(); }
  bool running() const { return pid_ > 0; }

  // SIGKILL through the pidfd, so a reused pid is never hit; nothing once reaped.
  void kill();
  // Reaps it if it has ended: true, with its wait status and resource usage; false while it still runs.
  Result<bool> try_reap(int &wait_status, struct rusage &usage);

 private:
  void let_go();

  pid_t pid_ = -1;
  UniqueFd pidfd_;
};

}  // namespace hutch
