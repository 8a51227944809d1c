#include "cli/log_output.h"

#include <cstdio>

#include "queue/keys.h"

namespace hutch::cli {

std::optional<std::string> print_log_entries(const std::vector<StreamEntry> &entries, std::string_view prefix,
                                             std::string &last_id, Output output) {
  std::optional<std::string> final_status;
  for (const auto &entry : entries) {
    last_id = entry.id;
    if (auto eof = field_value(entry.fields, keys::log::kEof)) {
      final_status = *eof;
      break;
    }
    bool to_stderr = field_value(entry.fields, keys::log::kFd) == keys::log::kStderr;
    std::string line = shown(field_value(entry.fields, keys::log::kLine).value_or(""), output, Layout::kMultiLine);
    // stdout is buffered and stderr is not: flush before an stderr line so a terminal shows both in order.
    if (to_stderr) std::fflush(stdout);
    std::FILE *out = to_stderr ? stderr : stdout;
    std::fwrite(prefix.data(), 1, prefix.size(), out);
    std::fwrite(line.data(), 1, line.size(), out);
    std::fputc('\n', out);
  }
  // Followers print in batches as lines arrive; a line held in a buffer would look like a lost line.
  std::fflush(stdout);
  return final_status;
}

}  // namespace hutch::cli
