#include "queue/record.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "queue/delivery_scripts.h"
#include "queue/keys.h"

namespace hutch {
namespace {

std::string format_number(double value) {
  char buffer[32];
  snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

void add(Command &hset, std::string_view field, std::string value) {
  hset.emplace_back(field);
  hset.push_back(std::move(value));
}

// Fields every record has, whatever its status.
Command base_hset(const Job &job, std::string_view status, const std::string &worker) {
  Command hset{"HSET", keys::execution_record(job.id)};
  add(hset, keys::record::kId, job.id);
  add(hset, keys::record::kFunction, job.function);
  add(hset, keys::record::kStatus, std::string(status));
  add(hset, keys::record::kInput, job.input);
  add(hset, keys::record::kTimeout, format_number(job.timeout_seconds));
  add(hset, keys::record::kMemoryLimit, std::to_string(job.memory_bytes));
  add(hset, keys::record::kCpuLimit, format_number(job.cpu_cores));
  add(hset, keys::record::kEnqueuedAt, format_timestamp_ms(job.enqueued_at_ms));
  if (!job.files_json.empty()) add(hset, keys::record::kFiles, job.files_json);
  add(hset, keys::record::kWorker, worker);
  add(hset, keys::record::kAttempt, std::to_string(job.attempt));
  return hset;
}

void add_expire(std::vector<Command> &commands, const std::string &key, int64_t retention_ms) {
  if (retention_ms > 0) commands.push_back({"PEXPIRE", key, std::to_string(retention_ms)});
}

Command index_command(const Job &job) {
  return {"ZADD", std::string(keys::kExecutionsIndex), std::to_string(job.enqueued_at_ms), job.id};
}

Command event_command(const Job &job, std::string_view status) {
  return {"PUBLISH", std::string(keys::kEventsChannel), job.id + " " + std::string(status)};
}

}  // namespace

int64_t now_unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_timestamp_ms(int64_t unix_ms) {
  time_t seconds = static_cast<time_t>(unix_ms / 1000);
  struct tm utc {};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
           utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(unix_ms % 1000));
  return buffer;
}

std::string format_fixed3(double value) {
  char buffer[32];
  snprintf(buffer, sizeof buffer, "%.3f", value);
  return buffer;
}

FinalFacts rejection_facts(const std::string &worker, const std::string &sentence) {
  FinalFacts facts;
  facts.status = ExecutionStatus::kRejected;
  facts.error = sentence;
  facts.worker = worker;
  facts.finished_at_ms = now_unix_ms();
  return facts;
}

std::string retry_log_line(int attempt, int max_attempts, const std::string &worker) {
  return "[hutch] attempt " + std::to_string(attempt) + " of " + std::to_string(max_attempts) + " on " + worker +
         ": the previous attempt's supervisor stopped before it finished";
}

std::string hand_back_log_line(int attempt, const std::string &worker) {
  return "[hutch] attempt " + std::to_string(attempt) + " stopped: supervisor " + worker +
         " shut down before the job finished; it will be run again";
}

std::string abandoned_sentence(int attempts, const std::string &last_worker) {
  std::string sentence = "abandoned after " + std::to_string(attempts) + (attempts == 1 ? " attempt" : " attempts") +
                         ": each time the supervisor running it stopped before it finished";
  if (!last_worker.empty()) sentence += " (last: " + last_worker + ")";
  return sentence;
}

std::vector<Command> running_commands(const Job &job, const StartFacts &facts) {
  std::string_view status = status_word(ExecutionStatus::kRunning);
  Command hset = base_hset(job, status, facts.worker);
  add(hset, keys::record::kStartedAt, format_timestamp_ms(facts.started_at_ms));
  add(hset, keys::record::kLimits, facts.limits);
  if (!facts.isolation.empty()) add(hset, keys::record::kIsolation, facts.isolation);
  std::string record = hset[1];
  std::vector<Command> commands{std::move(hset)};
  add_expire(commands, record, facts.retention_ms);
  commands.push_back(index_command(job));
  commands.push_back(event_command(job, status));
  if (job.attempt > 1) {
    commands.push_back({"XADD", keys::execution_logs(job.id), "*", std::string(keys::log::kFd),
                        std::string(keys::log::kStderr), std::string(keys::log::kLine),
                        retry_log_line(job.attempt, facts.max_attempts, facts.worker)});
  }
  return commands;
}

Command running_write(const Job &job, const StartFacts &facts) {
  return running_write_command(job.id, {facts.worker, job.attempt}, running_commands(job, facts));
}

std::vector<Command> final_commands(const Job &job, FinalFacts facts) {
  std::string_view status = status_word(facts.status);
  Command hset = base_hset(job, status, facts.worker);
  if (facts.started_at_ms) add(hset, keys::record::kStartedAt, format_timestamp_ms(*facts.started_at_ms));
  add(hset, keys::record::kFinishedAt, format_timestamp_ms(facts.finished_at_ms));
  if (facts.duration_seconds) add(hset, keys::record::kDuration, format_fixed3(*facts.duration_seconds));
  if (facts.exit_code) add(hset, keys::record::kExitCode, std::to_string(*facts.exit_code));
  if (facts.signal) add(hset, keys::record::kSignal, *facts.signal);
  if (facts.cpu_time_seconds) add(hset, keys::record::kCpuTime, format_fixed3(*facts.cpu_time_seconds));
  if (facts.memory_peak_bytes) add(hset, keys::record::kMemoryPeak, std::to_string(*facts.memory_peak_bytes));
  add(hset, keys::record::kOutput, facts.output);
  if (!facts.error.empty()) add(hset, keys::record::kError, facts.error);
  if (!facts.limits.empty()) add(hset, keys::record::kLimits, facts.limits);
  if (!facts.isolation.empty()) add(hset, keys::record::kIsolation, facts.isolation);
  add(hset, keys::record::kLogsTruncated, facts.logs_truncated ? "1" : "0");
  if (!facts.files_out.empty()) add(hset, keys::record::kFilesOut, facts.files_out);

  std::string logs = keys::execution_logs(job.id);
  std::string record = hset[1];
  std::vector<Command> commands;
  for (Command &store : facts.extra_commands) commands.push_back(std::move(store));
  commands.push_back(std::move(hset));
  add_expire(commands, record, facts.retention_ms);
  commands.push_back(index_command(job));
  commands.push_back({"XADD", logs, "*", std::string(keys::log::kEof), std::string(status)});
  add_expire(commands, logs, facts.retention_ms);
  commands.push_back(event_command(job, status));
  commands.push_back({"XACK", std::string(keys::kJobsStream), std::string(keys::kConsumerGroup), job.id});
  return commands;
}

Command final_write(const Job &job, FinalFacts facts) {
  Fence fence{facts.worker, job.attempt};
  std::string counted_function = facts.counted_function;
  return final_write_command(job.id, fence, counted_function, final_commands(job, std::move(facts)));
}

}  // namespace hutch
