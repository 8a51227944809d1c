// Every signal blocked in the calling thread for the life of one object, the previous mask restored after.
//
// Around a clone or fork from hutchd: a signal arriving between the clone and the child's reset_signals
// (child.cc) would run a handler of hutchd's in the child, and libuv's signal handler writes to the loop's
// signal pipe, which the child shares with hutchd, so hutchd could act on a signal the child got. With every
// signal blocked the child inherits the blocked mask, resets every disposition and only then unblocks; what
// arrived meanwhile is delivered to it under the defaults. libuv's uv_spawn does the same.
//
// Raw rt_sigprocmask: glibc's sigprocmask keeps its two internal signals (SIGCANCEL and SIGSETXID) out of
// any mask it sets, and "every" should mean every. The kernel ignores SIGKILL and SIGSTOP in the mask.
#pragma once

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <utility>

#include "common/error.h"

namespace hutch {

class BlockedSignals {
 public:
  static Result<BlockedSignals> block_all() {
    BlockedSignals blocked;
    uint64_t all = ~uint64_t{0};
    if (::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &blocked.previous_, sizeof all) != 0)
      return fail(errno_error("rt_sigprocmask(block every signal)"));
    blocked.armed_ = true;
    return blocked;
  }

  BlockedSignals(BlockedSignals &&other) noexcept
      : previous_(other.previous_), armed_(std::exchange(other.armed_, false)) {}
  BlockedSignals &operator=(BlockedSignals &&) = delete;
  BlockedSignals(const BlockedSignals &) = delete;
  BlockedSignals &operator=(const BlockedSignals &) = delete;
  ~BlockedSignals() { restore(); }

  // Puts the previous mask back (once); the parent calls it as soon as the clone returned.
  void restore() {
    if (!std::exchange(armed_, false)) return;
    // Cannot fail with a valid mask of the right size; nothing to do if it did.
    ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &previous_, nullptr, sizeof previous_);
  }

 private:
  BlockedSignals() = default;
  uint64_t previous_ = 0;  // the kernel's sigset on x86_64 and arm64: 64 signals, 8 bytes
  bool armed_ = false;
};

}  // namespace hutch
