#include "cli/status_words.h"

#include "queue/status.h"

namespace hutch::cli {
namespace {

constexpr ExecutionStatus kAllStatuses[] = {
    ExecutionStatus::kQueued, ExecutionStatus::kRunning, ExecutionStatus::kSucceeded,
    ExecutionStatus::kFailed, ExecutionStatus::kTimeout, ExecutionStatus::kOom,
    ExecutionStatus::kKilled, ExecutionStatus::kRejected, ExecutionStatus::kError,
                      ExecutionStatus::kAbandoned};

}  // namespace

bool is_status_word(std::string_view word) {
  for (auto status : kAllStatuses)
    if (status_word(status) == word) return true;
  return false;
}

bool is_final_status_word(std::string_view word) {
  for (auto status : kAllStatuses)
    if (status_word(status) == word) return is_final(status);
  return false;
}

std::string status_words_list() {
  std::string list;
  for (auto status : kAllStatuses) list += (list.empty() ? "" : ", ") + std::string(status_word(status));
  return list;
}

}  // namespace hutch::cli
