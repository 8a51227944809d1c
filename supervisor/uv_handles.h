// Owned libuv handles. libuv's rule: a handle is freed only in its close callback, never before. Each
// wrapper allocates its handle on the heap and, when the owner goes away, closes it and lets the close
// callback free it; callbacks stop reaching the owner from the moment of close.
//
// Every set-up call's result is checked and returned as an Error naming the call: a watch that silently
// failed to start (a pidfd poll above all) would leave a job waiting forever for an event that never comes.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hutch {

// "uv_poll_start(pidfd 12): bad file descriptor", with the errno libuv's code stands for.
Error uv_error(int status, const std::string &what);

class UvTimer {
 public:
  explicit UvTimer(uv_loop_t *loop);
  ~UvTimer();
  UvTimer(const UvTimer &) = delete;
  UvTimer &operator=(const UvTimer &) = delete;
  // Arms the timer (again). On an error the callback will not run: the caller decides what happens instead.
  Status start(uint64_t timeout_ms, std::function<void()> callback, uint64_t repeat_ms = 0);
  void stop();

 private:
  struct Handle;
  Handle *handle_;
};

// Watches an fd for readability (a pidfd becomes readable when its process exits).
class UvPoll {
 public:
  // `what` names the fd in errors ("pidfd of job 1-0").
  static Result<std::unique_ptr<UvPoll>> start(uv_loop_t *loop, int fd, const std::string &what,
                                               std::function<void()> on_readable);
  ~UvPoll();
  UvPoll(const UvPoll &) = delete;
  UvPoll &operator=(const UvPoll &) = delete;
  void stop();

 private:
  struct Handle;
  explicit UvPoll(Handle *handle) : handle_(handle) {}
  Handle *handle_;
};

// Reads a non-blocking pipe until EOF. Takes ownership of the fd (closed on an error too).
class UvPipeReader {
 public:
  static Result<std::unique_ptr<UvPipeReader>> start(uv_loop_t *loop, UniqueFd fd, const std::string &what,
                                                     std::function<void(std::string_view)> on_data,
                                                     std::function<void()> on_eof);
  ~UvPipeReader();
  UvPipeReader(const UvPipeReader &) = delete;
  UvPipeReader &operator=(const UvPipeReader &) = delete;
  bool at_eof() const;

 private:
  struct Handle;
  explicit UvPipeReader(Handle *handle) : handle_(handle) {}
  Handle *handle_;
};

}  // namespace hutch
