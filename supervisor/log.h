// The supervisor's log: one line per event on stderr, "2026-11-21T23:30:47.123Z INFO message".
// Libraries return errors; only the supervisor logs, naming the call that failed and its arguments.
// Control characters in a message are shown as escapes (common/text_escape.h): one event, one line.
#pragma once

#include <string>

namespace hutch {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

void log_message(LogLevel level, const std::string &message);
void set_log_level(LogLevel minimum);

inline void log_debug(const std::string &message) { log_message(LogLevel::kDebug, message); }
inline void log_info(const std::string &message) { log_message(LogLevel::kInfo, message); }
inline void log_warning(const std::string &message) { log_message(LogLevel::kWarning, message); }
inline void log_error(const std::string &message) { log_message(LogLevel::kError, message); }

}  // namespace hutch
