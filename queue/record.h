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
  int max_attempts = 3;   // named in a retry's log line
  int64_t retention_ms = 0;  // the record's TTL; 0: kept forever
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
  // Written in the same fenced script, before the record: the SETs of the output files (job_files.h).
  // `files_out` is empty when the function left no files or did not succeed.
  std::vector<std::vector<std::string>> extra_commands;
  std::string files_out;
  // A user function whose count in hutch:fn-executions goes up with the record if it still exists; "" for
  // none.
  std::string counted_function;
  int64_t retention_ms = 0;  // TTL of the record and its log stream; 0: kept forever
};

// The facts of a job refused before it ran: status `rejected` and why.
FinalFacts rejection_facts(const std::string &worker, const std::string &sentence);

// The line a retry (attempt > 1) logs first, and the one a job handed back at shutdown logs last.
std::string retry_log_line(int attempt, int max_attempts, const std::string &worker);
std::string hand_back_log_line(int attempt, const std::string &worker);
// The `error` of a job not run again: "abandoned after 3 attempts: ... (last: host:1234)".
std::string abandoned_sentence(int attempts, const std::string &last_worker);

// HSET (with `attempt`), EXPIRE, ZADD and PUBLISH for `running`, plus a retry's log line.
std::vector<Command> running_commands(const Job &job, const StartFacts &facts);
// The same as one fenced script (queue/delivery_scripts.h): written only while the job is this attempt's.
Command running_write(const Job &job, const StartFacts &facts);

// The output files' SETs, HSET of the final fields, EXPIRE, ZADD, the log stream's eof entry and its
// EXPIRE, PUBLISH, XACK: the record and the acknowledgement land together or not at all.
std::vector<Command> final_commands(const Job &job, FinalFacts facts);
// The same as one fenced script: only the attempt that owns the job writes its one final record.
Command final_write(const Job &job, FinalFacts facts);

}  // namespace hutch
