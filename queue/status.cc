#include "queue/status.h"

namespace hutch {

std::optional<ExecutionStatus> parse_status_word(std::string_view word) {
  for (auto status : {ExecutionStatus::kQueued, ExecutionStatus::kRunning, ExecutionStatus::kSucceeded,
                      ExecutionStatus::kFailed, ExecutionStatus::kTimeout, ExecutionStatus::kOom,
                      ExecutionStatus::kKilled, ExecutionStatus::kRejected, ExecutionStatus::kError,
                      ExecutionStatus::kAbandoned}) {
    if (status_word(status) == word) return status;
  }
  return std::nullopt;
}

}  // namespace hutch
