// The end of an execution (supervisor/execution.h): what the function left (its result on fd 3, its output
// files, the cgroup's counters) becomes the final record, written in one fenced script; or, for a job lost to
// another supervisor or stopped by the shutdown, no record at all. Then retire: the process reaped and the
// cgroup given back without blocking the loop, and only then the slot.
#include <signal.h>

#include <nlohmann/json.hpp>

#include "queue/delivery_scripts.h"
#include "queue/job_files.h"
#include "sandbox/exit_info.h"
#include "supervisor/execution.h"
#include "supervisor/log.h"

namespace hutch {
namespace {

// After the record, how often and for how long retire() tries to reap the process and release the cgroup.
constexpr uint64_t kRetireRetryMs = 10;
constexpr uint64_t kRetireGiveUpMs = 10000;

double seconds_between(uint64_t start_ns, uint64_t end_ns) { return static_cast<double>(end_ns - start_ns) / 1e9; }

double rusage_cpu_seconds(const struct rusage &usage) {
  auto seconds = [](const timeval &t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string trim(const std::string &text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return {};
  size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

}  // namespace

RedisConnection::ReplyCallback record_reply_handler(const std::string &id, const std::string &what) {
  return [id, what](const redisReply *reply) {
    auto outcome = parse_write_reply(reply);
    if (!outcome) log_error("job " + id + ": writing " + what + " failed: " + outcome.error().message);
    else if (*outcome == WriteOutcome::kStale || *outcome == WriteOutcome::kFinal)
      log_warning("job " + id + ": " + what + " " + std::string(describe_write_outcome(*outcome)));
  };
}

// The final record with the job's output files. Redis may refuse it (an ACL that does not let hutchd's user
// write under the job's `out`, a full Redis): then the record is written again without the files, `failed`,
// saying why, so that no execution stays `running` because its outputs could not be stored.
RedisConnection::ReplyCallback final_record_with_files_handler(RedisConnection *writer, Job job,
                                                               FinalFacts without_files) {
  return [writer, job = std::move(job), fallback = std::move(without_files)](const redisReply *reply) mutable {
    if (reply == nullptr || reply->type != REDIS_REPLY_ERROR) {
      record_reply_handler(job.id, "the final record")(reply);
      return;
    }
    std::string error = reply_string(reply);
    log_warning("job " + job.id + ": Redis refused to store its output files under '" + job.output_prefix +
                "/' (" + error + "); recording it as failed without them");
    fallback.status = ExecutionStatus::kFailed;
    fallback.error = "output files: Redis refused to store them under '" + job.output_prefix + "/' (" + error +
                     "); hutchd's Redis user must be allowed to write there (hutch acl --data-prefix), or leave out "
                     "out for the default, hutch:out:<id>";
    writer->send(final_write(job, std::move(fallback)), record_reply_handler(job.id, "the final record"));
  };
}

std::optional<std::string> Execution::take_output(std::string &output_json) {
  output_json = "null";
  auto result = read_result_file(result_file_.get(), kMaxOutputBytes);
  if (!result) return "output: " + result.error().message;
  if (!result->has_value())
    return "output: the result written to fd 3 is larger than the 1 MiB (1048576-byte) limit; return less, "
           "or write large data to files";
  std::string text = trim(**result);
  if (text.empty()) return std::nullopt;
  if (!nlohmann::json::accept(text))
    return "output: what the function wrote to fd 3 is not valid JSON: " + quote_value(text);
  output_json = text;
  return std::nullopt;
}

void Execution::collect_output_files(FinalFacts &facts) {
  auto collected = directory_->collect_outputs(context_.config->file_cap_bytes, context_.config->job_files_cap_bytes);
  if (!collected) {
    outcome_.files_error = "output files: " + collected.error().message;
    return;
  }
  if (collected->empty()) return;
  std::vector<OutputFile> files;
  for (CollectedFile &file : *collected) files.push_back({std::move(file.name), std::move(file.content)});
  facts.files_out = files_out_json(job_, files);
  facts.extra_commands = store_output_commands(job_, std::move(files), context_.config->retention_ms);
}

void Execution::finish() {
  if (finished_) return;
  finished_ = true;
  timeout_timer_.stop();
  sweep_timer_.stop();

  if (lost_ || outcome_.stopped_by_shutdown) {
    finish_without_record();
    return;
  }
  std::vector<std::string> tail;
  stdout_lines_.flush(tail);
  std::vector<LogLine> admitted;
  for (std::string &line : tail) log_budget_.admit(false, std::move(line), admitted);
  tail.clear();
  stderr_lines_.flush(tail);
  for (std::string &line : tail) log_budget_.admit(true, std::move(line), admitted);
  context_.shipper->append(job_.id, std::move(admitted));
  uint64_t dropped = context_.shipper->take_dropped(job_.id);
  if (dropped > 0) context_.shipper->append_notice(job_.id, context_.shipper->dropped_line(dropped));
  context_.shipper->flush();  // every line goes out before the eof entry of the final record

  FinalFacts facts;
  facts.worker = context_.config->consumer;
  facts.limits = context_.limits_word;
  facts.isolation = context_.isolation;
  facts.started_at_ms = started_at_ms_;
  facts.finished_at_ms = now_unix_ms();
  facts.logs_truncated = log_budget_.truncated() || dropped > 0;
  facts.retention_ms = context_.config->retention_ms;

  if (!outcome_.setup_error) {
    ExitInfo exit = exit_info_from_wait_status(wait_status_);
    outcome_.exit_code = exit.exit_code;
    outcome_.signal = exit.signal;
    if (exit.signal) {
      outcome_.signal_name = signal_name(*exit.signal);
      if (*exit.signal == SIGSYS) outcome_.seccomp_syscall = context_.seccomp_audit->syscall_that_killed(host_uid(), started_at_ms_);
    }
    facts.duration_seconds = seconds_between(started_ns_, ended_ns_);
    facts.exit_code = exit.exit_code;
    if (exit.signal) facts.signal = outcome_.signal_name;
    facts.cpu_time_seconds = rusage_cpu_seconds(rusage_);
    facts.memory_peak_bytes = static_cast<uint64_t>(rusage_.ru_maxrss) * 1024;
    if (cgroup_) {
      auto usage = cgroup_->usage();
      if (usage) {
        if (usage->cpu_time_ns > 0) facts.cpu_time_seconds = static_cast<double>(usage->cpu_time_ns) / 1e9;
        facts.memory_peak_bytes = usage->memory_peak_bytes;
        outcome_.oom_kills = usage->oom_kills;
      } else {
        log_warning("job " + job_.id + ": read cgroup counters: " + usage.error().message);
      }
    }
    outcome_.output_error = take_output(facts.output);
    // A function that fails may say why as {"error": "<sentence>"} (functions/function_io.h): the record's
    // error then carries it, not only the exit code.
    if (exit.exit_code && *exit.exit_code != 0 && !outcome_.output_error) {
      auto output = nlohmann::json::parse(facts.output, nullptr, /*allow_exceptions=*/false);
      if (output.is_object() && output.contains("error") && output["error"].is_string())
        outcome_.function_error = output["error"].get<std::string>().substr(0, 1000);
    }
  }
  Verdict verdict = classify_outcome(outcome_);
  if (verdict.status == ExecutionStatus::kSucceeded && directory_) {
    collect_output_files(facts);
    if (outcome_.files_error) verdict = classify_outcome(outcome_);
  }
  directory_.reset();  // frees the job's tmpfs: nothing of the job is left once the record is written
  input_files_.reset();
  package_mount_.reset();
  // `hutch function show` counts executions; a function deleted meanwhile is not brought back.
  if (!function_.package_directory.empty()) facts.counted_function = job_.function;
  facts.status = verdict.status;
  facts.error = verdict.error;
  if (facts.extra_commands.empty()) {
    context_.writer->send(final_write(job_, std::move(facts)), record_reply_handler(job_.id, "the final record"));
  } else {
    std::vector<Command> files = std::move(facts.extra_commands);
    facts.extra_commands.clear();
    FinalFacts without_files = facts;  // everything but the files, whose contents are not copied
    without_files.files_out.clear();
    facts.extra_commands = std::move(files);
    context_.writer->send(final_write(job_, std::move(facts)),
                          final_record_with_files_handler(context_.writer, job_, std::move(without_files)));
  }
  log_debug("job " + job_.id + " " + std::string(status_word(verdict.status)));
  retire();
}

// Killed at shutdown: handed back to the queue for another attempt. Lost: another supervisor runs it now.
// Neither writes a record: the attempt that finishes the job does.
void Execution::finish_without_record() {
  context_.shipper->take_dropped(job_.id);
  if (lost_) {
    log_warning("job " + job_.id + ": another supervisor took it over (this one missed its heartbeat for longer "
                "than the lease); killed, no record written");
  } else {
    context_.shipper->flush();  // its last lines before the hand-back line
    std::string id = job_.id;
    context_.writer->send(hand_back_command(id, {context_.config->consumer, job_.attempt}, context_.config->lease_ms,
                                            hand_back_log_line(job_.attempt, context_.config->consumer)),
                          [id](const redisReply *reply) {
                            auto outcome = parse_write_reply(reply);
                            if (!outcome)
                              log_error("job " + id + ": handing it back failed: " + outcome.error().message);
                            else if (*outcome != WriteOutcome::kWritten)
                              log_warning("job " + id + ": not handed back: another supervisor owns it now");
                          });
    log_info("job " + job_.id + ": attempt " + std::to_string(job_.attempt) +
             " stopped by the shutdown; handed back to the queue to run again");
  }
  directory_.reset();
  input_files_.reset();
  package_mount_.reset();
  retire();
}

// After the record (or the hand-back): the process reaped and the cgroup given back, then the slot is free.
// Both are done at once in the normal case; when the cgroup still holds dying processes (or the process was
// not reaped: a sandbox that could not be watched), retire_step tries again on a timer, never blocking the
// loop, and gives up after kRetireGiveUpMs with an error in the log.
void Execution::retire() {
  retire_deadline_ms_ = uv_now(context_.loop) + kRetireGiveUpMs;
  retire_step();
}

void Execution::retire_step() {
  if (process_.running()) {
    int status = 0;
    struct rusage usage {};
    auto reaped = process_.try_reap(status, usage);
    if (!reaped) log_error("job " + job_.id + ": " + reaped.error().message);
    else if (!*reaped) process_.kill();
  }
  std::string busy;
  if (cgroup_) {
    if (auto released = cgroup_->release(); released) {
      cgroup_.reset();
    } else {
      busy = released.error().message;
      // Killed again before the next round: a process that was forking when the sweep gave up may have
      // left a child. What is left shows in the next release().
      (void)cgroup_->kill_all();
    }
  }
  if (!process_.running() && !cgroup_) {
    on_finished_(*this);
    return;
  }
  std::string left = process_.running() ? "its process " + std::to_string(process_.pid()) + " is not reaped"
                                        : "";
  if (!busy.empty()) left += (left.empty() ? "" : ", and ") + busy;
  if (uv_now(context_.loop) >= retire_deadline_ms_) {
    log_error("job " + job_.id + ": gave up cleaning up after " + std::to_string(kRetireGiveUpMs / 1000) +
              " s: " + left + "; its slot is used again (hutchd's shutdown removes its cgroups)");
    cgroup_.reset();
    on_finished_(*this);
    return;
  }
  if (auto armed = retire_timer_.start(kRetireRetryMs, [this] { retire_step(); }); !armed) {
    log_error("job " + job_.id + ": cannot wait to clean up (" + armed.error().message + "): " + left);
    cgroup_.reset();
    on_finished_(*this);
  }
}

}  // namespace hutch
