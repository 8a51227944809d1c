// Turns a function's stdout/stderr bytes into log lines, under the per-execution cap.
// Pure logic (no Redis, no fd): the supervisor feeds bytes in and sends the lines out in batches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hutch {

inline constexpr size_t kMaxLogLineBytes = 64 * 1024;
// What each line costs against the log cap besides its own bytes: about what Redis spends on a stream entry
// beyond the line's text (measured ~21 bytes for an empty line, ~26 for an 80-byte one, Redis 7.0), rounded
// up. Without it a flood of empty lines would make one entry per byte of the cap, ~20 times the cap in Redis;
// with it a log stream holds at most cap / 32 lines and about the cap in Redis memory (docs/protocol.md, Logs).
inline constexpr uint64_t kLogLineOverheadBytes = 32;

struct LogLine {
  bool is_stderr;
  std::string text;  // without its newline
};

// Splits one fd's byte stream into lines; a line longer than kMaxLogLineBytes is cut into pieces.
class LineSplitter {
 public:
  void feed(std::string_view bytes, std::vector<std::string> &complete);
  // The partial last line, if any, at EOF.
  bool flush(std::vector<std::string> &complete);

 private:
  std::string partial_;
};

// The cap is shared by both fds of an execution; each line counts its bytes plus kLogLineOverheadBytes.
// Past it one marker line is emitted, the rest dropped.
class LogBudget {
 public:
  explicit LogBudget(uint64_t cap_bytes) : cap_bytes_(cap_bytes) {}
  // Appends `line` to `out` if within the cap; at the crossing appends the marker instead.
  void admit(bool is_stderr, std::string &&line, std::vector<LogLine> &out);
  bool truncated() const { return truncated_; }
  uint64_t used_bytes() const { return used_bytes_; }
  static std::string marker(uint64_t cap_bytes);

 private:
  uint64_t cap_bytes_;
  uint64_t used_bytes_ = 0;
  bool truncated_ = false;
};

}  // namespace hutch
