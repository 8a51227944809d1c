#include "queue/log_lines.h"

namespace hutch {

void LineSplitter::feed(std::string_view bytes, std::vector<std::string> &complete) {
  while (!bytes.empty()) {
    size_t newline = bytes.find('\n');
    size_t take = newline == std::string_view::npos ? bytes.size() : newline;
    size_t room = kMaxLogLineBytes - partial_.size();
    if (take >= room) {
      // Cut here: a line without end must not grow without bound in the supervisor.
      partial_.append(bytes.substr(0, room));
      complete.push_back(std::move(partial_));
      partial_.clear();
      bytes.remove_prefix(room);
      if (!bytes.empty() && bytes.front() == '\n' && take == room) bytes.remove_prefix(1);
      continue;
    }
    partial_.append(bytes.substr(0, take));
    if (newline == std::string_view::npos) return;
    complete.push_back(std::move(partial_));
    partial_.clear();
    bytes.remove_prefix(take + 1);
  }
}

bool LineSplitter::flush(std::vector<std::string> &complete) {
  if (partial_.empty()) return false;
  complete.push_back(std::move(partial_));
  partial_.clear();
  return true;
}

std::string LogBudget::marker(uint64_t cap_bytes) {
  return "[hutch] log truncated: the " + std::to_string(cap_bytes) + "-byte log cap was reached; further output is dropped";
}

void LogBudget::admit(bool is_stderr, std::string &&line, std::vector<LogLine> &out) {
  if (truncated_) return;
  // Each line costs what it will cost Redis: its bytes plus a stream entry's overhead.
  uint64_t cost = line.size() + kLogLineOverheadBytes;
  if (used_bytes_ + cost > cap_bytes_) {
    truncated_ = true;
    out.push_back(LogLine{true, marker(cap_bytes_)});
    return;
  }
  used_bytes_ += cost;
  out.push_back(LogLine{is_stderr, std::move(line)});
}

}  // namespace hutch
