// Invalid jobs get a `rejected` record whose sentence names the field, the value and the rule; the
// supervisor goes on running valid jobs, during and after.
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/hutch_test.h"
#include "tests/support/record_checks.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;

struct BadJob {
  std::string what;
  JobFields fields;
  std::vector<std::string> error_mentions;  // each must be in the error sentence
};

class RejectionTest : public HutchTest {
 protected:
  // Enqueues every job of the batch at once, then checks each record, then that hello still succeeds.
  void expect_rejected(const std::vector<BadJob> &batch) {
    std::vector<std::string> ids;
    for (const auto &job : batch) ids.push_back(redis().xadd_job(job.fields));
    for (size_t i = 0; i < batch.size(); ++i) {
      SCOPED_TRACE(batch[i].what);
      Fields record = redis().wait_for_final(ids[i], 15s);
      EXPECT_EQ(record["status"], "rejected");
      EXPECT_EQ(record["id"], ids[i]);
      for (const auto &mention : batch[i].error_mentions) EXPECT_THAT(record["error"], HasSubstr(mention));
      EXPECT_EQ(record.count("exit_code"), 0u);
      EXPECT_EQ(record.count("started_at"), 0u) << "a rejected job never started";
      auto score = redis().command({"ZSCORE", "hutch:execs", ids[i]});
      EXPECT_EQ(score.type, Reply::Type::kString) << "rejected executions are indexed too";
    }
    Fields hello = run_job({{"function", "hello"}}, 15s);
    EXPECT_EQ(hello["status"], "succeeded") << "the supervisor goes on after rejecting: " << hello["error"];
    EXPECT_EQ(hello["output"], "\"Hello, World\"");
  }
};

TEST_F(RejectionTest, TimeoutOutsideItsRule) {
  expect_rejected({
      {"timeout 301", {{"function", "hello"}, {"timeout", "301"}}, {"timeout", "301", "300"}},
      {"timeout 0", {{"function", "hello"}, {"timeout", "0"}}, {"timeout", "'0'", "300"}},
      {"timeout -1", {{"function", "hello"}, {"timeout", "-1"}}, {"timeout", "-1", "300"}},
      {"timeout abc", {{"function", "hello"}, {"timeout", "abc"}}, {"timeout", "abc", "300"}},
  });
}

TEST_F(RejectionTest, MemoryAndCpuOutsideTheirRules) {
  expect_rejected({
      {"memory 12Q", {{"function", "hello"}, {"memory", "12Q"}}, {"memory", "12Q", "4M", "64G"}},
      {"memory 1M", {{"function", "hello"}, {"memory", "1M"}}, {"memory", "1M", "4M"}},
      {"cpu 0", {{"function", "hello"}, {"cpu", "0"}}, {"cpu", "'0'", "0.01", "256"}},
      {"cpu 257", {{"function", "hello"}, {"cpu", "257"}}, {"cpu", "257", "256"}},
  });
}

TEST_F(RejectionTest, FieldsThatAreUnknownMissingTwiceOrNotJson) {
  expect_rejected({
      {"unknown field", {{"function", "hello"}, {"colour", "red"}}, {"colour"}},
      {"missing function", {{"input", "{}"}}, {"function", "missing"}},
      {"unknown function", {{"function", "no_such_function"}}, {"function", "no_such_function"}},
      {"field given twice", {{"function", "hello"}, {"timeout", "1"}, {"timeout", "2"}}, {"timeout", "twice"}},
      {"input not JSON", {{"function", "hello"}, {"input", "{name: Ada"}}, {"input", "JSON"}},
  });
}

TEST_F(RejectionTest, ARejectedJobIsPublishedAndLoggedAsRejected) {
  Subscriber events(redis_server().url(), "hutch:events");
  std::string id = redis().xadd_job({{"function", "hello"}, {"timeout", "abc"}});
  Fields record = redis().wait_for_final(id, 15s);
  EXPECT_EQ(record["status"], "rejected");
  std::vector<std::string> seen;
  while (auto message = events.next_message(2s)) {
    if (message->rfind(id + " ", 0) == 0) seen.push_back(*message);
    if (seen.size() == 1) break;
  }
  EXPECT_THAT(seen, testing::ElementsAre(id + " rejected")) << "never running: it did not start";
}

// Garbage in the stream does not disturb a job already running.
TEST_F(RejectionTest, MalformedJobsAreRejectedWhileAnotherJobRuns) {
  std::string sleeper = redis().xadd_job({{"function", "sleep"}, {"input", R"({"seconds":2})"}});
  redis().wait_for_status(sleeper, {"running"}, 15s);
  std::vector<std::string> garbage = {
      redis().xadd_job({{"nonsense", "1"}}),
      redis().xadd_job({{"function", ""}}),
      redis().xadd_job({{"function", "hello"}, {"input", std::string("\xff\xfe", 2)}}),
      redis().xadd_job({{"function", "hello"}, {"memory", "lots"}}),
      redis().xadd_job({{"function", "sleep"}, {"cpu", "-3"}}),
  };
  for (const auto &id : garbage) {
    Fields record = redis().wait_for_final(id, 10s);
    EXPECT_EQ(record["status"], "rejected") << id;
    EXPECT_FALSE(record["error"].empty()) << id;
  }
  EXPECT_EQ(redis().record(sleeper)["status"], "running") << "the garbage was handled while the sleep ran";
  Fields record = redis().wait_for_final(sleeper, 15s);
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
  EXPECT_EQ(record["output"], R"({"slept":2})");
}

}  // namespace
}  // namespace hutch::test
