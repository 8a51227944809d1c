// Owned libuv handles. libuv's rule: a handle is freed only in its close callback, never before. Each
// wrapper allocates its handle on the heap and, when the owner goes away, closes it and lets the close
// callback free it; callbacks stop reaching the owner from the moment of close.
#pragma once

#include <uv.h>

#include <functional>
#include <string_view>

#include "common/unique_fd.h"

namespace hutch {

class UvTimer {
 public:
  explicit UvTimer(uv_loop_t *loop);
  ~UvTimer();
  UvTimer(const UvTimer &) = delete;
  UvTimer &operator=(const UvTimer &) = delete;
  void start(uint64_t timeout_ms, std::function<void()> callback, uint64_t repeat_ms = 0);
  void stop();

 private:
  struct Handle;
  Handle *handle_;
};

// Watches an fd for readability (a pidfd becomes readable when its process exits).
class UvPoll {
 public:
  UvPoll(uv_loop_t *loop, int fd, std::function<void()> on_readable);
  ~UvPoll();
  UvPoll(const UvPoll &) = delete;
  UvPoll &operator=(const UvPoll &) = delete;
  void stop();

 private:
  struct Handle;
  Handle *handle_;
};

// Reads a non-blocking pipe until EOF. Takes ownership of the fd.
class UvPipeReader {
 public:
  UvPipeReader(uv_loop_t *loop, UniqueFd fd, std::function<void(std::string_view)> on_data,
               std::function<void()> on_eof);
  ~UvPipeReader();
  UvPipeReader(const UvPipeReader &) = delete;
  UvPipeReader &operator=(const UvPipeReader &) = delete;
  bool at_eof() const;

 private:
  struct Handle;
  Handle *handle_;
};

}  // namespace hutch
