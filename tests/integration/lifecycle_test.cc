// Shutdown: SIGTERM stops taking jobs, lets running ones finish within --grace, hands back what it had to
// kill (tests/integration/delivery_test.cc shows the next supervisor running it), and exits 0.
#include <sys/wait.h>


#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/hutch_test.h"
#include "tests/support/record_checks.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;
using Clock = std::chrono::steady_clock;

class LifecycleTest : public HutchTest {};

TEST_F(LifecycleTest, SigtermLetsTheRunningJobFinishAndTakesNoNewOnes) {
  std::string running = redis().xadd_job({{"function", "sleep"}, {"input", R"({"seconds":2})"}});
  redis().wait_for_status(running, {"running"}, 15s);
  ASSERT_EQ(::kill(hutchd().pid(), SIGTERM), 0);
  // The new job comes once hutchd has handled the signal: the question is whether it still reads the queue
  // after SIGTERM (it has a free slot), not a race with the signal.
  ASSERT_TRUE(hutchd().wait_for_log("SIGTERM: draining; no new jobs are read", 10s)) << hutchd().log_text();
  std::string late = redis().xadd_job({{"function", "hello"}});

  std::optional<int> exit_status = hutchd().wait(20s);
  ASSERT_TRUE(exit_status.has_value()) << "hutchd did not exit within 20 s of SIGTERM";
  EXPECT_EQ(describe_wait_status(*exit_status), "exit code 0");

  Fields record = redis().record(running);
  EXPECT_EQ(record["status"], "succeeded") << "hutchd exited before its job was recorded: " << describe_fields(record);
  EXPECT_EQ(record["output"], R"({"slept":2})");
  EXPECT_TRUE(redis().record(late).empty()) << "a job enqueued after SIGTERM was taken: "
                                            << describe_fields(redis().record(late));
  // It stays in the stream, unacknowledged, for the next supervisor.
  Reply pending = redis().command({"XPENDING", "hutch:jobs", "hutchd"});
  ASSERT_EQ(pending.type, Reply::Type::kArray) << pending.describe();
  EXPECT_EQ(pending.elements[0].integer, 0) << "no job is left claimed but unfinished: " << pending.describe();
  Reply entries = redis().command({"XRANGE", "hutch:jobs", late, late});
  EXPECT_EQ(entries.elements.size(), 1u);

  // The next supervisor runs it.
  ASSERT_TRUE(start_hutchd(hutchd_options()));
  Fields picked_up = redis().wait_for_final(late, 15s);
  EXPECT_EQ(picked_up["status"], "succeeded") << picked_up["error"];
}

TEST_F(LifecycleTest, SigtermKillsWhatOutlivesTheGraceAndHandsItBack) {
  HutchdOptions options = hutchd_options();
  options.grace_seconds = 1;
  ASSERT_TRUE(start_hutchd(options));
  std::string id = redis().xadd_job({{"function", "sleep"}, {"input", R"({"seconds":10})"}, {"timeout", "20"}});
  redis().wait_for_status(id, {"running"}, 15s);

  auto signalled = Clock::now();
  std::optional<int> exit_status = hutchd().stop(SIGTERM, 10s);
  auto took = std::chrono::duration<double>(Clock::now() - signalled).count();
  ASSERT_TRUE(exit_status.has_value()) << "hutchd did not exit within 10 s of SIGTERM with --grace 1";
  EXPECT_EQ(describe_wait_status(*exit_status), "exit code 0");
  EXPECT_GE(took, 0.9) << "it waited for the grace period";
  EXPECT_LE(took, 2.5) << "and not much longer";

  Fields record = redis().record(id);
  EXPECT_EQ(record["status"], "running") << "no final record: the job is run again " << describe_fields(record);
  std::vector<StreamEntry> logs = redis().xrange(RedisClient::logs_key(id));
  ASSERT_FALSE(logs.empty());
  EXPECT_THAT(logs.back().get("line"), HasSubstr("shut down before the job finished; it will be run again"));
  Reply pending = redis().command({"XPENDING", "hutch:jobs", "hutchd"});
  ASSERT_EQ(pending.type, Reply::Type::kArray) << pending.describe();
  EXPECT_EQ(pending.elements[0].integer, 1) << "still pending, for the next supervisor: " << pending.describe();
}

// Redis goes away while a job runs and comes back empty (no persistence): hutchd keeps the job, writes its
// final record once Redis is back, and goes on reading the queue it recreates.
class RedisRestartTest : public HutchTest {
 protected:
  bool own_redis_server() override { return true; }
  // --verbose: hutchd logs each job's end, which is how the test knows it ended while Redis was down.
  HutchdOptions hutchd_options() override {
    HutchdOptions options = HutchTest::hutchd_options();
    options.extra_args.push_back("--verbose");
    return options;
  }
};

TEST_F(RedisRestartTest, AJobThatEndsWhileRedisIsDownIsRecordedWhenItIsBack) {
  std::string id = redis().xadd_job({{"function", "sleep"}, {"input", R"({"seconds":1})"}});
  redis().wait_for_status(id, {"running"}, 15s);
  ASSERT_TRUE(redis_server().stop());
  ASSERT_TRUE(hutchd().wait_for_log("job " + id + " succeeded", 15s)) << "the job ends while Redis is down";
  EXPECT_TRUE(hutchd().running()) << "hutchd keeps running without Redis";
  ASSERT_TRUE(redis_server().restart());

  // hutchd's reconnect backoff tops out at a few seconds.
  Fields record = redis().wait_for_final(id, 15s);
  ASSERT_EQ(record["status"], "succeeded") << "the final record was kept until Redis came back";
  EXPECT_EQ(record["output"], R"({"slept":1})");

  std::string after = redis().xadd_job({{"function", "hello"}});
  Fields next = redis().wait_for_final(after, 15s);
  EXPECT_EQ(next["status"], "succeeded") << "hutchd reads the queue again after Redis came back: "
                                         << describe_fields(next);
}

}  // namespace
}  // namespace hutch::test
