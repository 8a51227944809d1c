#include "queue/outcome.h"

#include <cstdio>

namespace hutch {

std::string describe_bytes(uint64_t bytes) {
  char buffer[64];
  const char *units[] = {"KiB", "MiB", "GiB"};
  double value = static_cast<double>(bytes);
  int unit = -1;
  while (value >= 1024 && unit < 2) value /= 1024, ++unit;
  if (unit < 0) return std::to_string(bytes) + " bytes";
  snprintf(buffer, sizeof buffer, "%.4g %s", value, units[unit]);
  return buffer;
}

std::string describe_seconds(double seconds) {
  char buffer[32];
  snprintf(buffer, sizeof buffer, "%g s", seconds);
  return buffer;
}

Verdict classify_outcome(const Outcome &o) {
  // Order matters: what hutch did to the job explains a SIGKILL better than the signal itself.
  if (o.setup_error) return {ExecutionStatus::kError, *o.setup_error};
  if (o.stopped_by_shutdown)
    return {ExecutionStatus::kError, "the supervisor was shut down and the job was still running when its " +
                                         describe_seconds(o.grace_seconds) + " grace period ran out, so it was killed"};
  if (o.timed_out)
    return {ExecutionStatus::kTimeout, "the function ran longer than its " + describe_seconds(o.timeout_seconds) +
                                           " timeout; every process of the job was killed"};
  if (o.oom_kills > 0)
    return {ExecutionStatus::kOom, "the job went over its " + describe_bytes(o.memory_limit_bytes) +
                                       " memory limit and the kernel killed it (out of memory)"};
  if (o.signal) {
    std::string sentence = "the function was killed by " + o.signal_name;
    if (o.signal_name == "SIGSYS") {
      sentence += o.seccomp_syscall.empty() ? ": it made a system call the sandbox forbids (seccomp)"
                                            : ": it made the forbidden system call " + o.seccomp_syscall + " (seccomp)";
    }
    return {ExecutionStatus::kKilled, sentence};
  }
  if (o.exit_code && *o.exit_code != 0) {
    std::string sentence = "the function exited with code " + std::to_string(*o.exit_code);
    if (o.function_error) sentence += ": " + *o.function_error;
    return {ExecutionStatus::kFailed, sentence};
  }
  if (o.output_error) return {ExecutionStatus::kFailed, *o.output_error};
  if (o.files_error) return {ExecutionStatus::kFailed, *o.files_error};
  return {ExecutionStatus::kSucceeded, ""};
}

}  // namespace hutch
