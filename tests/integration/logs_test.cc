// hutch:logs:<id>: lines arrive while the function runs, each with its fd, a partial last line is flushed,
// the stream ends with eof, and the log cap holds against a flood.
#include <nlohmann/json.hpp>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/hutch_test.h"
#include "tests/support/record_checks.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;
using Clock = std::chrono::steady_clock;

class LogsTest : public HutchTest {};

TEST_F(LogsTest, ALineIsInTheLogWhileTheFunctionStillRuns) {
  std::string id = redis().xadd_job({{"function", "sleep"}, {"input", R"({"seconds":3})"}});
  redis().wait_for_status(id, {"running"}, 15s);

  // The line is printed right after start and must arrive within 50 ms; poll for up to 1.5 s, well before
  // the 3 s sleep ends.
  auto deadline = Clock::now() + 1500ms;
  std::vector<StreamEntry> logs;
  while (logs.empty() && Clock::now() < deadline) {
    logs = redis().xrange(RedisClient::logs_key(id));
    if (logs.empty()) std::this_thread::sleep_for(20ms);
  }
  Fields while_running = redis().record(id);
  ASSERT_FALSE(logs.empty()) << "no log line within 1.5 s of start";
  EXPECT_EQ(logs[0].get("fd"), "out");
  EXPECT_EQ(logs[0].get("line"), "sleeping 3 s");
  EXPECT_EQ(while_running["status"], "running") << "the line came while the function was still running";

  Fields record = redis().wait_for_final(id, 15s);
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
  logs = redis().xrange(RedisClient::logs_key(id));
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs.back().fields, (JobFields{{"eof", "succeeded"}}));
}

TEST_F(LogsTest, StderrLinesHaveFdErrAndEofCarriesTheFinalStatus) {
  std::string id = redis().xadd_job({{"function", "hello"}, {"input", R"({"name":42})"}});
  Fields record = redis().wait_for_final(id, 20s);
  EXPECT_EQ(record["status"], "failed");
  std::vector<StreamEntry> logs = redis().xrange(RedisClient::logs_key(id));
  ASSERT_GE(logs.size(), 2u);
  EXPECT_EQ(logs[0].get("fd"), "err");
  EXPECT_THAT(logs[0].get("line"), HasSubstr("name must be a string"));
  EXPECT_EQ(logs.back().fields, (JobFields{{"eof", "failed"}}));
}

TEST_F(LogsTest, APartialLastLineIsFlushedAtExit) {
  std::string id = redis().xadd_job({{"function", "log_flood"}, {"input", R"({"partial":true})"}});
  Fields record = redis().wait_for_final(id, 20s);
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
  std::vector<StreamEntry> logs = redis().xrange(RedisClient::logs_key(id));
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[0].fields, (JobFields{{"fd", "out"}, {"line", "no newline at end"}}));
  EXPECT_EQ(logs[1].fields, (JobFields{{"eof", "succeeded"}}));
}

TEST_F(LogsTest, LinesKeepTheirOrderAndTheirFd) {
  std::string out = redis().xadd_job({{"function", "log_flood"}, {"input", R"({"lines":5,"interval_ms":0})"}});
  std::string err =
      redis().xadd_job({{"function", "log_flood"}, {"input", R"({"lines":5,"interval_ms":0,"stderr":true})"}});
  for (const auto &[id, fd] : {std::pair{out, "out"}, std::pair{err, "err"}}) {
    SCOPED_TRACE(fd);
    Fields record = redis().wait_for_final(id, 20s);
    EXPECT_EQ(record["status"], "succeeded") << record["error"];
    std::vector<StreamEntry> logs = redis().xrange(RedisClient::logs_key(id));
    ASSERT_EQ(logs.size(), 6u);
    for (int i = 0; i < 5; ++i)
      EXPECT_EQ(logs[i].fields, (JobFields{{"fd", fd}, {"line", "line " + std::to_string(i + 1)}}));
    EXPECT_EQ(logs[5].fields, (JobFields{{"eof", "succeeded"}}));
  }
}

TEST_F(LogsTest, ALineLongerThan64KibIsCutInto64KibPieces) {
  // One line of 150000 characters: pieces of 65536, 65536 and 18928.
  std::string id =
      redis().xadd_job({{"function", "log_flood"}, {"input", R"({"bytes":150001,"line_length":150000})"}});
  Fields record = redis().wait_for_final(id, 20s);
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
  std::vector<size_t> sizes;
  for (const auto &entry : redis().xrange(RedisClient::logs_key(id)))
    if (entry.get("fd") == "out") sizes.push_back(entry.get("line").size());
  EXPECT_THAT(sizes, testing::ElementsAre(65536u, 65536u, 18928u));
}

class LogCapTest : public HutchTest {
 protected:
  HutchdOptions hutchd_options() override {
    HutchdOptions options = HutchTest::hutchd_options();
    options.log_cap = "1M";
    return options;
  }
};

TEST_F(LogCapTest, AFloodPastTheCapIsCutWithOneMarkerAndTheJobGoesOn) {
  constexpr size_t kCapBytes = 1 << 20;
  std::string id = redis().xadd_job({{"function", "log_flood"}, {"input", R"({"bytes":20971520})"}});
  Fields record = redis().wait_for_final(id, 30s);
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
  nlohmann::json output = nlohmann::json::parse(record["output"], nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(output.is_object()) << record["output"];
  EXPECT_EQ(output.value("bytes", 0), 20971520) << "it ran to the end of its flood: " << record["output"];
  EXPECT_EQ(record["logs_truncated"], "1");

  std::vector<StreamEntry> logs = redis().xrange(RedisClient::logs_key(id));
  ASSERT_GE(logs.size(), 2u);
  EXPECT_EQ(logs.back().fields, (JobFields{{"eof", "succeeded"}}));
  // Each line counts its bytes plus 32 (its stream entry's cost in Redis) against the cap.
  size_t charged_bytes = 0;
  std::vector<std::string> markers;
  for (size_t i = 0; i + 1 < logs.size(); ++i) {
    const std::string line = logs[i].get("line");
    if (line.find("truncated") != std::string::npos) {
      markers.push_back(line);
      EXPECT_EQ(logs[i].get("fd"), "err");
      EXPECT_EQ(i, logs.size() - 2) << "the marker is the last line: everything after the cap is dropped";
    } else {
      charged_bytes += line.size() + 32;
    }
  }
  ASSERT_EQ(markers.size(), 1u);
  EXPECT_EQ(markers[0], "[hutch] log truncated: the 1048576-byte log cap was reached; further output is dropped");
  EXPECT_LE(charged_bytes, kCapBytes);
  EXPECT_GE(charged_bytes, kCapBytes - (64 << 10)) << "the cap is the limit, not far below it";
}

TEST_F(LogCapTest, OutputUnderTheCapIsNotTruncated) {
  std::string id = redis().xadd_job({{"function", "log_flood"}, {"input", R"({"bytes":524288})"}});
  Fields record = redis().wait_for_final(id, 30s);
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
  EXPECT_EQ(record["logs_truncated"], "0");
  std::vector<StreamEntry> logs = redis().xrange(RedisClient::logs_key(id));
  size_t line_bytes = 0;
  for (const auto &entry : logs) line_bytes += entry.get("line").size() + (entry.has("line") ? 1 : 0);
  EXPECT_EQ(line_bytes, 524288u + 5u) << "every byte of the flood, plus 'done\\n' on stderr";
}

}  // namespace
}  // namespace hutch::test
