// What happened to a started job, and the status word and sentence it earns. Pure logic: the supervisor
// gathers the facts (wait status, cgroup counters, timers), this file decides what they mean.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "queue/status.h"

namespace hutch {

struct Outcome {
  std::optional<std::string> setup_error;  // the sandbox could not be started
  bool timed_out = false;                  // hutch killed it at its timeout
  bool stopped_by_shutdown = false;        // hutch killed it when the grace period ran out
  double timeout_seconds = 0;
  double grace_seconds = 0;
  uint64_t oom_kills = 0;                  // from the cgroup (or inferred under rlimits)
  uint64_t memory_limit_bytes = 0;
  std::optional<int> exit_code;
  std::optional<int> signal;
  std::string signal_name;                 // "SIGSYS"
  std::string seccomp_syscall;             // the forbidden call, when known
  std::optional<std::string> output_error; // fd 3 held too much or no JSON
  std::optional<std::string> function_error;  // a failing function's own sentence: {"error": "..."} on fd 3
  std::optional<std::string> files_error;  // $HUTCH_OUT held what cannot be stored (too large, not a file)
};

struct Verdict {
  ExecutionStatus status;
  std::string error;  // empty for succeeded
};

Verdict classify_outcome(const Outcome &outcome);

// "64 MiB", "1.5 GiB", "4096 bytes": sizes in sentences.
std::string describe_bytes(uint64_t bytes);
// "5 s", "2.5 s"
std::string describe_seconds(double seconds);

}  // namespace hutch
