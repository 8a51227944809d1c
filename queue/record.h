// The execution record (hash hutch:exec:<id>) as field lists, and the Redis commands that write it.
// docs/protocol.md, "Execution record", is the contract for every field here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "queue/job.h"
#include "queue/status.h"

namespace hutch {

using Command = std::vector<std::string>;

// UTC, ISO 8601 with milliseconds: 2026-11-21T23:30:47.123Z
std::string format_timestamp_ms(int64_t unix_ms);
int64_t now_unix_ms();
// "10.000", "0.123"
std::string format_fixed3(double value);

struct StartFacts {
  std::string worker;
  std::string limits;  // "cgroup v1", "cgroup v2", "rlimit"
  int64_t started_at_ms = 0;
  std::string isolation;  // the protections in force, as tokens: "cgroup-v1 pidns ... seccomp"
};

struct FinalFacts {
  ExecutionStatus status = ExecutionStatus::kError;
  std::string error;
  std::string worker;
  std::string limits;
  std::string isolation;
  std::optional<int64_t> started_at_ms;  // absent for a job that never started (rejected)
  int64_t finished_at_ms = 0;
  std::optional<double> duration_seconds;
  std::optional<int> exit_code;
  std::optional<std::string> signal;
  std::optional<double> cpu_time_seconds;
  std::optional<uint64_t> memory_peak_bytes;
  std::string output = "null";
  bool logs_truncated = false;
  // Written in the same MULTI, before the record: the SETs of the output files (job_files.h) and a user
  // function's execution count. `files_out` is empty when the function left no files or did not succeed.
  std::vector<std::vector<std::string>> extra_commands;
  std::string files_out;
};

// The facts of a job refused before it ran: status `rejected` and why.
FinalFacts rejection_facts(const std::string &worker, const std::string &sentence);

// HSET + ZADD + PUBLISH for `running`, sent together.
std::vector<Command> running_commands(const Job &job, const StartFacts &facts);

// MULTI, the output files' SETs, HSET of the final fields, ZADD, the log stream's eof entry, PUBLISH, XACK, EXEC: the record and
// the acknowledgement land together or not at all.
std::vector<Command> final_commands(const Job &job, FinalFacts facts);

}  // namespace hutch
