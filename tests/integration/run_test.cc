// A job's life as a user sees it: enqueue with XADD, read the record, the events and the logs.
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/hutch_test.h"
#include "tests/support/record_checks.h"
#include "tests/support/test_cgroup.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;

// What `limits` must say here: cgroups when root on a cgroup host, else rlimits (docs/protocol.md).
std::string expected_limits() {
  if (::geteuid() != 0) return "";  // not decided by the test: any documented word
  std::string version = host_cgroup_version();
  return version.empty() ? "rlimit" : "cgroup " + version;
}

class RunTest : public HutchTest {};

TEST_F(RunTest, HelloSucceedsWithEveryDocumentedField) {
  std::string id = redis().xadd_job({{"function", "hello"}});
  ASSERT_FALSE(id.empty());
  Fields record = redis().wait_for_final(id, 20s);

  EXPECT_EQ(record["status"], "succeeded");
  EXPECT_EQ(record["output"], "\"Hello, World\"");
  EXPECT_EQ(record["id"], id);
  EXPECT_EQ(record["function"], "hello");
  EXPECT_EQ(record["input"], "null");
  EXPECT_EQ(parse_decimal_text(record["timeout"]), 5.0) << record["timeout"];
  EXPECT_EQ(record["memory_limit"], std::to_string(256ULL << 20));
  EXPECT_EQ(parse_decimal_text(record["cpu_limit"]), 1.0) << record["cpu_limit"];
  EXPECT_EQ(record["exit_code"], "0");
  EXPECT_EQ(record.count("signal"), 0u) << record["signal"];
  EXPECT_EQ(record.count("error"), 0u) << record["error"];
  EXPECT_EQ(record["worker"], consumer());
  EXPECT_EQ(record["logs_truncated"], "0");
  if (std::string limits = expected_limits(); !limits.empty()) {
    EXPECT_EQ(record["limits"], limits);
  } else {
    EXPECT_THAT(record["limits"], testing::AnyOf("cgroup v1", "cgroup v2", "rlimit"));
  }

  auto enqueued = parse_utc_milliseconds(record["enqueued_at"]);
  auto started = parse_utc_milliseconds(record["started_at"]);
  auto finished = parse_utc_milliseconds(record["finished_at"]);
  ASSERT_TRUE(enqueued && started && finished) << describe_fields(record);
  EXPECT_EQ(*enqueued, stream_id_milliseconds(id)) << "enqueued_at is the time of the stream entry";
  EXPECT_LE(*enqueued, *started);
  EXPECT_LE(*started, *finished);
  EXPECT_LT(*finished - *enqueued, 20'000);

  auto duration = parse_decimal_text(record["duration"]);
  ASSERT_TRUE(duration) << record["duration"];
  EXPECT_THAT(record["duration"], testing::MatchesRegex("[0-9]+\\.[0-9]{3}"));
  EXPECT_GE(*duration, 0.0);
  EXPECT_LE(*duration * 1000, static_cast<double>(*finished - *started) + 1.0)
      << "duration ends with the function, before finished_at";
  auto cpu_time = parse_decimal_text(record["cpu_time"]);
  ASSERT_TRUE(cpu_time) << record["cpu_time"];
  EXPECT_THAT(record["cpu_time"], testing::MatchesRegex("[0-9]+\\.[0-9]{3}"));
  EXPECT_LE(*cpu_time, *duration + 0.01);
  auto memory_peak = parse_unsigned_text(record["memory_peak"]);
  ASSERT_TRUE(memory_peak) << record["memory_peak"];
  EXPECT_GT(*memory_peak, 0u);
  EXPECT_LT(*memory_peak, 256ULL << 20);

  Reply score = redis().command({"ZSCORE", "hutch:execs", id});
  ASSERT_EQ(score.type, Reply::Type::kString) << score.describe();
  EXPECT_EQ(parse_decimal_text(score.text), static_cast<double>(*stream_id_milliseconds(id)));
}

TEST_F(RunTest, HelloGreetsTheNameItIsGiven) {
  std::string input = R"({"name":"Ada"})";
  Fields record = run_job({{"function", "hello"}, {"input", input}});
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
  EXPECT_EQ(record["output"], "\"Hello, Ada\"");
  EXPECT_EQ(record["input"], input);
}

TEST_F(RunTest, StatusChangesArePublishedOnTheEventsChannel) {
  Subscriber events(redis_server().url(), "hutch:events");
  std::string id = redis().xadd_job({{"function", "hello"}});
  std::vector<std::string> seen;
  while (seen.size() < 2) {
    auto message = events.next_message(20s);
    if (!message) break;
    if (message->rfind(id + " ", 0) == 0) seen.push_back(*message);
  }
  EXPECT_THAT(seen, testing::ElementsAre(id + " running", id + " succeeded"));
  EXPECT_FALSE(events.next_message(300ms).has_value()) << "one event per status change";
}

TEST_F(RunTest, HelloLogsItsGreetingAndTheFinalStatus) {
  std::string id = redis().xadd_job({{"function", "hello"}, {"input", R"({"name":"Ada"})"}});
  Fields record = redis().wait_for_final(id, 20s);
  ASSERT_EQ(record["status"], "succeeded");
  std::vector<StreamEntry> logs = redis().xrange(RedisClient::logs_key(id));
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[0].get("fd"), "out");
  EXPECT_EQ(logs[0].get("line"), "Hello, Ada");
  EXPECT_EQ(logs[1].fields, (JobFields{{"eof", "succeeded"}}));
}

// 20 jobs at concurrency 2: every record is right, and never more than 2 functions ran at once.
TEST_F(RunTest, TwentyJobsAtConcurrencyTwoAllGetTheirOwnRecords) {
  struct Expected {
    std::string id;
    std::string output;
  };
  std::vector<Expected> jobs;
  for (int i = 0; i < 20; ++i) {
    if (i % 2 == 0) {
      std::string name = "job" + std::to_string(i);
      jobs.push_back({redis().xadd_job({{"function", "hello"}, {"input", R"({"name":")" + name + R"("})"}}),
                      "\"Hello, " + name + "\""});
    } else {
      jobs.push_back({redis().xadd_job({{"function", "sleep"}, {"input", R"({"seconds":0.2})"}}), R"({"slept":0.2})"});
    }
  }
  std::vector<std::pair<double, double>> intervals;  // started_at, started_at + duration, in ms
  for (const auto &job : jobs) {
    Fields record = redis().wait_for_final(job.id, 60s);
    EXPECT_EQ(record["status"], "succeeded") << job.id << ": " << record["error"];
    EXPECT_EQ(record["id"], job.id);
    EXPECT_EQ(record["output"], job.output) << job.id;
    EXPECT_EQ(record["worker"], consumer());
    auto started = parse_utc_milliseconds(record["started_at"]);
    auto duration = parse_decimal_text(record["duration"]);
    if (started && duration) intervals.emplace_back(*started, *started + *duration * 1000);
  }
  ASSERT_EQ(intervals.size(), jobs.size());
  // The most intervals that hold one instant (ms rounding allowed for at each end).
  int most_at_once = 0;
  for (const auto &[start, end] : intervals) {
    double instant = start + 2;
    int at_once = static_cast<int>(std::count_if(intervals.begin(), intervals.end(), [&](const auto &other) {
      return other.first <= instant && instant < other.second - 2;
    }));
    most_at_once = std::max(most_at_once, at_once);
  }
  EXPECT_LE(most_at_once, 2);
  EXPECT_GE(most_at_once, 2) << "with 2 slots and 20 queued jobs, two should have run side by side";
}

}  // namespace
}  // namespace hutch::test
