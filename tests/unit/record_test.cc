// The record's commands: field names and formats of docs/protocol.md, and the final write's atomicity.
#include "queue/record.h"

#include <gtest/gtest.h>

#include <map>

namespace hutch {
namespace {

std::map<std::string, std::string> hset_fields(const Command &hset) {
  std::map<std::string, std::string> fields;
  for (size_t i = 2; i + 1 < hset.size(); i += 2) fields[hset[i]] = hset[i + 1];
  return fields;
}

Job sample_job() {
  Job job;
  job.id = "1700000000123-0";
  job.enqueued_at_ms = 1700000000123;
  job.function = "hello";
  job.input = "{\"name\":\"Ada\"}";
  job.timeout_seconds = 2.5;
  job.memory_bytes = 64ULL << 20;
  job.cpu_cores = 0.5;
  return job;
}

TEST(RecordTest, TimestampsAreUtcIso8601WithMilliseconds) {
  EXPECT_EQ(format_timestamp_ms(1700000000123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(format_timestamp_ms(5), "1970-01-01T00:00:00.005Z");
  EXPECT_EQ(format_fixed3(5.0004), "5.000");
}

TEST(RecordTest, RunningWritesRecordIndexAndEvent) {
  auto commands = running_commands(sample_job(), {"w1", "cgroup v1", 1700000000200, "cgroup-v1 pidns seccomp"});
  ASSERT_EQ(commands.size(), 3u);  // no retention: no PEXPIRE; first attempt: no retry line
  auto fields = hset_fields(commands[0]);
  EXPECT_EQ(commands[0][1], "hutch:exec:1700000000123-0");
  EXPECT_EQ(fields["status"], "running");
  EXPECT_EQ(fields["timeout"], "2.5");
  EXPECT_EQ(fields["memory_limit"], "67108864");
  EXPECT_EQ(fields["cpu_limit"], "0.5");
  EXPECT_EQ(fields["enqueued_at"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(fields["started_at"], "2023-11-14T22:13:20.200Z");
  EXPECT_EQ(fields["limits"], "cgroup v1");
  EXPECT_EQ(fields["isolation"], "cgroup-v1 pidns seccomp");
  EXPECT_EQ(fields["attempt"], "1");
  EXPECT_EQ(commands[1], (Command{"ZADD", "hutch:execs", "1700000000123", "1700000000123-0"}));
  EXPECT_EQ(commands[2], (Command{"PUBLISH", "hutch:events", "1700000000123-0 running"}));
}

TEST(RecordTest, FinalRecordCommandsEndWithTheAck) {
  FinalFacts facts;
  facts.status = ExecutionStatus::kKilled;
  facts.error = "the function was killed by SIGSYS";
  facts.worker = "w1";
  facts.limits = "cgroup v1";
  facts.started_at_ms = 1700000000200;
  facts.finished_at_ms = 1700000000300;
  facts.duration_seconds = 0.1;
  facts.signal = "SIGSYS";
  facts.cpu_time_seconds = 0.01;
  facts.memory_peak_bytes = 4096;
  auto commands = final_commands(sample_job(), facts);
  ASSERT_GE(commands.size(), 4u);
  auto fields = hset_fields(commands[0]);
  EXPECT_EQ(fields["status"], "killed");
  EXPECT_EQ(fields["signal"], "SIGSYS");
  EXPECT_EQ(fields.count("exit_code"), 0u);  // fields that do not apply are absent
  EXPECT_EQ(fields["duration"], "0.100");
  EXPECT_EQ(fields["output"], "null");
  EXPECT_EQ(fields["logs_truncated"], "0");
  bool has_eof = false, has_ack = false, ack_after_record = false;
  for (size_t i = 0; i < commands.size(); ++i) {
    if (commands[i][0] == "XADD" && commands[i][1] == "hutch:logs:1700000000123-0" && commands[i][3] == "eof")
      has_eof = commands[i][4] == "killed";
    if (commands[i][0] == "XACK") {
      has_ack = commands[i] == Command{"XACK", "hutch:jobs", "hutchd", "1700000000123-0"};
      ack_after_record = i > 0;
    }
  }
  EXPECT_TRUE(has_eof);
  EXPECT_TRUE(has_ack);
  EXPECT_TRUE(ack_after_record);
}

TEST(RecordTest, RejectedRecordHasNoRunFields) {
  FinalFacts facts;
  facts.status = ExecutionStatus::kRejected;
  facts.error = "timeout: '301' is out of range";
  facts.worker = "w1";
  facts.finished_at_ms = 1700000000300;
  auto fields = hset_fields(final_commands(sample_job(), facts)[0]);
  EXPECT_EQ(fields["status"], "rejected");
  EXPECT_EQ(fields.count("started_at"), 0u);
  EXPECT_EQ(fields.count("duration"), 0u);
  EXPECT_EQ(fields["error"], "timeout: '301' is out of range");
}

// An input over its rule is not stored: the error sentence gives its size (docs/protocol.md).
TEST(RecordTest, AnInputOverItsRuleIsNotStored) {
  Job job = sample_job();
  job.input.clear();
  job.input_over_rule = true;
  FinalFacts facts = rejection_facts("w1", "input: 67108864 bytes is too large; the limit is 1 MiB (1048576 bytes)");
  auto fields = hset_fields(final_commands(job, facts)[0]);
  EXPECT_EQ(fields.count("input"), 0u);
  EXPECT_EQ(fields["function"], "hello");
}

TEST(RecordTest, ARetryLogsWhoRunsItAndTheRecordSaysWhichAttempt) {
  Job job = sample_job();
  job.attempt = 2;
  StartFacts facts{"host:7", "cgroup v2", 1700000000200, "", 3, 60000};
  auto commands = running_commands(job, facts);
  EXPECT_EQ(hset_fields(commands[0])["attempt"], "2");
  EXPECT_EQ(commands[1], (Command{"PEXPIRE", "hutch:exec:1700000000123-0", "60000"}));
  EXPECT_EQ(commands.back(), (Command{"XADD", "hutch:logs:1700000000123-0", "*", "fd", "err", "line",
                                      "[hutch] attempt 2 of 3 on host:7: the previous attempt's supervisor stopped "
                                      "before it finished"}));
}

TEST(RecordTest, RetentionExpiresTheRecordAndTheLogStream) {
  FinalFacts facts;
  facts.status = ExecutionStatus::kSucceeded;
  facts.worker = "w1";
  facts.retention_ms = 3600000;
  auto commands = final_commands(sample_job(), facts);
  size_t expires = 0;
  for (const Command &command : commands) {
    if (command[0] != "PEXPIRE") continue;
    ++expires;
    EXPECT_EQ(command[2], "3600000");
    EXPECT_TRUE(command[1] == "hutch:exec:1700000000123-0" || command[1] == "hutch:logs:1700000000123-0") << command[1];
  }
  EXPECT_EQ(expires, 2u);
}

TEST(RecordTest, AbandonedSentenceNamesTheAttemptsAndTheLastWorker) {
  EXPECT_EQ(abandoned_sentence(3, "host:1234"),
            "abandoned after 3 attempts: each time the supervisor running it stopped before it finished (last: "
            "host:1234)");
  EXPECT_EQ(abandoned_sentence(1, ""),
            "abandoned after 1 attempt: each time the supervisor running it stopped before it finished");
  EXPECT_EQ(hand_back_log_line(2, "h:1"),
            "[hutch] attempt 2 stopped: supervisor h:1 shut down before the job finished; it will be run again");
}

}  // namespace
}  // namespace hutch
