#include "supervisor/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "common/text_escape.h"
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

// syslog priorities, which the journal reads from a "<N>" prefix (sd-daemon(3)).
int journal_priority(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return 7;
    case LogLevel::kInfo: return 6;
    case LogLevel::kWarning: return 4;
    case LogLevel::kError: return 3;
  }
  return 6;
}

// Under systemd stderr is a stream to the journal, and JOURNAL_STREAM names its device and inode. The journal
// stamps each line itself and takes its priority from the prefix, so `journalctl -p warning` finds warnings.
bool stderr_is_journal() {
  const char *stream = std::getenv("JOURNAL_STREAM");
  unsigned long long device = 0, inode = 0;
  if (stream == nullptr || std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
  struct stat info {};
  return ::fstat(STDERR_FILENO, &info) == 0 && info.st_dev == device && info.st_ino == inode;
}

}  // namespace

void set_log_level(LogLevel minimum) { minimum_level = minimum; }

void log_message(LogLevel level, const std::string &message) {
  if (level < minimum_level) return;
  static const bool journal = stderr_is_journal();
  std::string prefix = journal ? "<" + std::to_string(journal_priority(level)) + ">"
                               : format_timestamp_ms(now_unix_ms()) + " ";
  // Messages carry text from Redis (function names, stored entries, error sentences): escaped here, once
  // for every caller, a newline in them cannot start a line of its own with a forged time and level.
  std::string line = prefix + level_word(level) + " " + escape_control_characters(message) + "\n";
  // One write per line so lines of concurrent writers never interleave; a full stderr is not our problem.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace hutch
