// Small writes that could cost hutchd or Redis far more than they weigh (issue 10, finding 5): a job entry
// with a field far over its rule, an entry with a huge number of fields, and a flood of empty log lines.
// hutchd reads an entry's oversized values and surplus fields as their sizes only, rejects the job without
// storing them, and counts every log line's cost in Redis against the log cap. Each test then checks that
// hutchd still serves.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gmock/gmock.h"
#include "tests/security/security_test.h"
#include "tests/support/record_checks.h"

using namespace std::chrono_literals;
using testing::HasSubstr;

namespace hutch::test {
namespace {

constexpr uint64_t kMiB = 1ULL << 20;

// The peak resident memory of a process (VmHWM in /proc/<pid>/status), in bytes.
uint64_t peak_resident_bytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) != 0) continue;
    std::istringstream words(line.substr(6));
    uint64_t kilobytes = 0;
    words >> kilobytes;
    return kilobytes * 1024;
  }
  ADD_FAILURE() << "no VmHWM for pid " << pid;
  return 0;
}

uint64_t memory_usage(RedisClient &redis, const std::string &key) {
  Reply reply = redis.command({"MEMORY", "USAGE", key, "SAMPLES", "0"});
  EXPECT_EQ(reply.type, Reply::Type::kInteger) << reply.describe();
  return static_cast<uint64_t>(reply.integer);
}

// A 64 MiB `input` (the rule is 1 MiB): hutchd reads it as its size only, so its peak memory grows by about
// the entry's size once (the bytes cross the socket into the client library's read buffer, and nowhere
// else), and the rejected record keeps its size, not its bytes.
TEST_F(SecurityTest, AnOversizedFieldCostsHutchdItsSizeOnceAndIsNotStored) {
  HUTCH_REQUIRE_ROOT();
  const uint64_t size = 64 * kMiB;
  uint64_t peak_before = peak_resident_bytes(hutchd().pid());
  std::string id = redis().xadd_job({{"function", "hello"}, {"input", std::string(size, ' ')}});
  Fields record = redis().wait_for_final(id, 60s);
  uint64_t peak_after = peak_resident_bytes(hutchd().pid());

  EXPECT_EQ(record["status"], "rejected") << describe_fields(record).substr(0, 2000);
  EXPECT_EQ(record["error"], "input: 67108864 bytes is too large; the limit is 1 MiB (1048576 bytes)");
  EXPECT_FALSE(record.contains("input")) << "the record does not keep what broke the rule";
  EXPECT_LE(memory_usage(redis(), RedisClient::execution_key(id)), 4096u);
  RecordProperty("hutchd_peak_growth_bytes", std::to_string(peak_after - peak_before));
  EXPECT_LE(peak_after - peak_before, size + size / 4)
      << "hutchd's peak resident memory went from " << peak_before << " to " << peak_after << " bytes";
  expect_hutchd_still_serves();
}

// An entry of 500,000 one-byte fields (about 6 MiB on the wire): read as its first fields and a count, so
// it costs hutchd no more than its size, and the job is rejected with the count.
TEST_F(SecurityTest, AnEntryWithAHugeNumberOfFieldsIsReadAsACount) {
  HUTCH_REQUIRE_ROOT();
  JobFields fields{{"function", "hello"}};
  for (int i = 0; i < 500000; ++i) fields.emplace_back("f", "x");
  uint64_t peak_before = peak_resident_bytes(hutchd().pid());
  std::string id = redis().xadd_job(fields);
  Fields record = redis().wait_for_final(id, 60s);
  uint64_t peak_after = peak_resident_bytes(hutchd().pid());

  EXPECT_EQ(record["status"], "rejected") << describe_fields(record).substr(0, 2000);
  EXPECT_EQ(record["error"],
            "the entry has 500001 fields; a job has at most 7: function, input, timeout, memory, cpu, files and out");
  RecordProperty("hutchd_peak_growth_bytes", std::to_string(peak_after - peak_before));
  EXPECT_LE(peak_after - peak_before, 8 * kMiB)
      << "hutchd's peak resident memory went from " << peak_before << " to " << peak_after << " bytes";
  expect_hutchd_still_serves();
}

class LogFloodTest : public SecurityTest {
 protected:
  HutchdOptions hutchd_options() override {
    HutchdOptions options = SecurityTest::hutchd_options();
    options.log_cap = "1M";
    return options;
  }
};

// 1.5 million empty lines under a 1 MiB log cap. Each line costs Redis a stream entry (about 20 bytes even
// when empty), so the cap charges every line 32 bytes besides its text: the stream stays within the cap in
// entries (1 MiB / 32, plus the marker and the eof entry) and in Redis memory.
TEST_F(LogFloodTest, EmptyLinesCannotBuryRedisInStreamEntries) {
  HUTCH_REQUIRE_ROOT();
  constexpr uint64_t kCapBytes = 1 << 20;
  std::string id =
      redis().xadd_job({{"function", "log_flood"}, {"input", R"({"bytes":1572864,"line_length":0})"}, {"timeout", "30"}});
  Fields record = redis().wait_for_final(id, 60s);
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
  EXPECT_EQ(record["logs_truncated"], "1");
  Reply length = redis().command({"XLEN", RedisClient::logs_key(id)});
  ASSERT_EQ(length.type, Reply::Type::kInteger) << length.describe();
  RecordProperty("log_entries", std::to_string(length.integer));
  EXPECT_LE(static_cast<uint64_t>(length.integer), kCapBytes / 32 + 2);
  EXPECT_GE(static_cast<uint64_t>(length.integer), kCapBytes / 32 - 2048) << "the cap, not something far below it";
  uint64_t usage = memory_usage(redis(), RedisClient::logs_key(id));
  RecordProperty("log_stream_bytes", std::to_string(usage));
  EXPECT_LE(usage, kCapBytes) << "the log stream's memory in Redis";
  expect_hutchd_still_serves();
}

}  // namespace
}  // namespace hutch::test
