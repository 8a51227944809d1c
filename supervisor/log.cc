#include "supervisor/log.h"

#include <unistd.h>

#include "queue/record.h"

namespace hutch {
namespace {

LogLevel minimum_level = LogLevel::kInfo;

const char *level_word(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarning: return "WARN";
    case LogLevel::kError: return "ERROR";
  }
  return "INFO";
}

}  // namespace

void set_log_level(LogLevel minimum) { minimum_level = minimum; }

void log_message(LogLevel level, const std::string &message) {
  if (level < minimum_level) return;
  std::string line = format_timestamp_ms(now_unix_ms()) + " " + level_word(level) + " " + message + "\n";
  // One write per line so lines of concurrent writers never interleave; a full stderr is not our problem.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace hutch
