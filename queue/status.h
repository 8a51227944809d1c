// Status words of an execution (docs/protocol.md, "Status words").
#pragma once

#include <optional>
#include <string_view>

namespace hutch {

enum class ExecutionStatus { kQueued, kRunning, kSucceeded, kFailed, kTimeout, kOom, kKilled, kRejected, kError, kAbandoned };

constexpr std::string_view status_word(ExecutionStatus status) {
  switch (status) {
    case ExecutionStatus::kQueued: return "queued";
    case ExecutionStatus::kRunning: return "running";
    case ExecutionStatus::kSucceeded: return "succeeded";
    case ExecutionStatus::kFailed: return "failed";
    case ExecutionStatus::kTimeout: return "timeout";
    case ExecutionStatus::kOom: return "oom";
    case ExecutionStatus::kKilled: return "killed";
    case ExecutionStatus::kRejected: return "rejected";
    case ExecutionStatus::kError: return "error";
    case ExecutionStatus::kAbandoned: return "abandoned";
  }
  return "error";
}

// Final words are the ones after which a record never changes again.
constexpr bool is_final(ExecutionStatus status) {
  return status != ExecutionStatus::kQueued && status != ExecutionStatus::kRunning;
}

std::optional<ExecutionStatus> parse_status_word(std::string_view word);

}  // namespace hutch
