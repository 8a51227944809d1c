// Delivery and fencing (docs/protocol.md, "Delivery"): attempts, claims from dead supervisors, abandoned
// jobs, refused stale writes, the shutdown hand-back, and retention. Dead supervisors are played with the
// commands one would type: XREADGROUP as a consumer that never comes back, XCLAIM to take an entry away.
#include <sys/wait.h>

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/hutch_test.h"
#include "tests/support/record_checks.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;

class DeliveryTest : public HutchTest {
 protected:
  bool start_hutchd_in_set_up() override { return false; }

  HutchdOptions options_with(std::vector<std::string> flags) {
    HutchdOptions options = hutchd_options();
    options.extra_args = std::move(flags);
    return options;
  }

  // XADD a job and let consumer `ghost` read it: pending for a supervisor that is gone.
  std::string enqueue_pending_for(const std::string &ghost, const JobFields &fields) {
    redis().command({"XGROUP", "CREATE", "hutch:jobs", "hutchd", "0", "MKSTREAM"});  // BUSYGROUP is fine
    std::string id = redis().xadd_job(fields);
    Reply read = redis().command({"XREADGROUP", "GROUP", "hutchd", ghost, "COUNT", "1", "STREAMS", "hutch:jobs", ">"});
    EXPECT_EQ(read.type, Reply::Type::kArray) << read.describe();
    return id;
  }

  // XPENDING's extended entry for `id`: {id, consumer, idle ms, deliveries}; empty when not pending.
  std::vector<Reply> pending_entry(const std::string &id) {
    Reply pending = redis().command({"XPENDING", "hutch:jobs", "hutchd", id, id, "1"});
    if (pending.type != Reply::Type::kArray || pending.elements.empty()) return {};
    return pending.elements[0].elements;
  }

  std::vector<std::string> log_lines(const std::string &id) {
    std::vector<std::string> lines;
    for (const StreamEntry &entry : redis().xrange(RedisClient::logs_key(id)))
      lines.push_back(entry.has("eof") ? "eof " + entry.get("eof") : entry.get("line"));
    return lines;
  }

  bool wait_until(const std::function<bool()> &done, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(20ms);
    }
    return true;
  }
};

TEST_F(DeliveryTest, AFreshJobIsAttemptOne) {
  ASSERT_TRUE(start_hutchd(hutchd_options()));
  Fields record = run_job({{"function", "hello"}});
  EXPECT_EQ(record["status"], "succeeded") << describe_fields(record);
  EXPECT_EQ(record["attempt"], "1");
}

TEST_F(DeliveryTest, AJobPendingForADeadSupervisorIsClaimedAndRunAgain) {
  std::string id = enqueue_pending_for("ghost", {{"function", "hello"}});
  ASSERT_TRUE(start_hutchd(options_with({"--lease", "1"})));
  Fields record = redis().wait_for_final(id, 15s);
  EXPECT_EQ(record["status"], "succeeded") << describe_fields(record);
  EXPECT_EQ(record["attempt"], "2");
  EXPECT_EQ(record["worker"], consumer());
  EXPECT_THAT(log_lines(id), testing::Contains("[hutch] attempt 2 of 3 on " + consumer() +
                                                ": the previous attempt's supervisor stopped before it finished"));
  EXPECT_TRUE(pending_entry(id).empty()) << "acknowledged with its record";
}

TEST_F(DeliveryTest, ARestartUnderTheSameNameTakesBackItsOwnEntriesAtOnce) {
  std::string id = enqueue_pending_for(consumer(), {{"function", "hello"}});
  ASSERT_TRUE(start_hutchd(hutchd_options()));  // lease 30 s: only the start-up reclaim can be this quick
  Fields record = redis().wait_for_final(id, 5s);
  EXPECT_EQ(record["status"], "succeeded") << describe_fields(record);
  EXPECT_EQ(record["attempt"], "2");
}

TEST_F(DeliveryTest, AJobWhoseSupervisorsDiedMaxAttemptsTimesIsAbandoned) {
  std::string id = enqueue_pending_for("ghost", {{"function", "hello"}});
  // Two more deliveries (XCLAIM without JUSTID counts one each): three supervisors took it and died.
  for (int i = 0; i < 2; ++i) redis().command({"XCLAIM", "hutch:jobs", "hutchd", "ghost", "0", id});
  redis().command(
      {"HSET", RedisClient::execution_key(id), "status", "running", "worker", "gone-host:7", "attempt", "3"});
  ASSERT_TRUE(start_hutchd(options_with({"--lease", "1", "--max-attempts", "3"})));
  Fields record = redis().wait_for_final(id, 15s);
  EXPECT_EQ(record["status"], "abandoned") << describe_fields(record);
  EXPECT_EQ(record["error"], "abandoned after 3 attempts: each time the supervisor running it stopped before it "
                             "finished (last: gone-host:7)");
  EXPECT_EQ(record["attempt"], "4");
  EXPECT_EQ(log_lines(id), (std::vector<std::string>{"eof abandoned"}));
  EXPECT_TRUE(pending_entry(id).empty());
}

TEST_F(DeliveryTest, AJobTakenOverByAnotherSupervisorIsKilledWithoutARecord) {
  // Lease 2 s: a heartbeat every 0.67 s notices the loss well before the thief's entry, idle from the
  // XCLAIM on, is old enough for this supervisor to claim it back.
  HutchdOptions options = options_with({"--lease", "2"});
  options.concurrency = 1;
  ASSERT_TRUE(start_hutchd(options));
  std::string id = redis().xadd_job({{"function", "sleep"}, {"input", R"({"seconds":5})"}, {"timeout", "10"}});
  redis().wait_for_status(id, {"running"}, 15s);
  // Another supervisor claims it (as if this one had missed its heartbeats for a lease).
  redis().command({"XCLAIM", "hutch:jobs", "hutchd", "thief", "0", id});
  EXPECT_TRUE(hutchd().wait_for_log("another supervisor took it over", 3s)) << "the next heartbeat saw it lost";
  ASSERT_EQ(pending_entry(id).size(), 4u);
  EXPECT_EQ(pending_entry(id)[1].text, "thief");
  redis().command({"XACK", "hutch:jobs", "hutchd", id});  // the thief's attempt ends; nothing left to claim
  // Concurrency 1: the next job runs once the lost one has given its slot back. Its record is written on
  // the same connection as one for the lost job would have been, after it: once it is there, a wrong
  // record would be too.
  Fields next = run_job({{"function", "hello"}}, 10s);
  EXPECT_EQ(next["status"], "succeeded") << describe_fields(next);
  Fields record = redis().record(id);
  EXPECT_EQ(record["status"], "running") << "no record from the attempt that lost the job: " << describe_fields(record);
  for (const std::string &line : log_lines(id)) EXPECT_THAT(line, testing::Not(HasSubstr("eof")));
}

TEST_F(DeliveryTest, AStaleFinalWriteIsRefused) {
  ASSERT_TRUE(start_hutchd(hutchd_options()));  // lease 30 s: no heartbeat during this 1 s job
  std::string id = redis().xadd_job({{"function", "sleep"}, {"input", R"({"seconds":1})"}});
  redis().wait_for_status(id, {"running"}, 15s);
  redis().command({"XCLAIM", "hutch:jobs", "hutchd", "thief", "0", id});
  EXPECT_TRUE(hutchd().wait_for_log("the final record refused", 10s));
  Fields record = redis().record(id);
  EXPECT_EQ(record["status"], "running") << describe_fields(record);
  EXPECT_EQ(pending_entry(id)[1].text, "thief") << "not acknowledged: the thief's attempt owns it";
  redis().command({"XACK", "hutch:jobs", "hutchd", id});
}

TEST_F(DeliveryTest, AClaimedJobWhoseRecordIsAlreadyFinalIsAcknowledgedAndNotRunAgain) {
  std::string id = enqueue_pending_for("ghost", {{"function", "hello"}});
  redis().command({"HSET", RedisClient::execution_key(id), "status", "succeeded", "worker", "ghost", "attempt", "1"});
  ASSERT_TRUE(start_hutchd(options_with({"--lease", "1"})));
  EXPECT_TRUE(wait_until([&] { return pending_entry(id).empty(); }, 5s)) << "acknowledged";
  Fields record = redis().record(id);
  EXPECT_EQ(record["worker"], "ghost") << "the one final record stays: " << describe_fields(record);
  EXPECT_EQ(record["attempt"], "1");
  EXPECT_TRUE(hutchd().wait_for_log("`running` refused", 1s));
}

TEST_F(DeliveryTest, SigtermHandsRunningJobsBackAndAnotherSupervisorRunsThem) {
  HutchdOptions first = options_with({"--lease", "2"});
  first.grace_seconds = 0.5;
  ASSERT_TRUE(start_hutchd(first));
  std::string id = redis().xadd_job({{"function", "sleep"}, {"input", R"({"seconds":2})"}});
  redis().wait_for_status(id, {"running"}, 15s);
  std::optional<int> exit_status = hutchd().stop(SIGTERM, 10s);
  ASSERT_TRUE(exit_status.has_value()) << "hutchd did not exit within 10 s of SIGTERM";
  EXPECT_EQ(describe_wait_status(*exit_status), "exit code 0");

  std::vector<Reply> entry = pending_entry(id);
  ASSERT_EQ(entry.size(), 4u) << "handed back: still pending";
  EXPECT_EQ(entry[1].text, consumer());
  EXPECT_GE(entry[2].integer, 2000) << "marked idle for a lease, so the next claim takes it at once";
  EXPECT_EQ(redis().record(id)["status"], "running") << "no final record for an attempt handed back";
  EXPECT_THAT(log_lines(id), testing::Contains("[hutch] attempt 1 stopped: supervisor " + consumer() +
                                                " shut down before the job finished; it will be run again"));

  HutchdOptions second = options_with({"--lease", "2"});
  second.consumer = consumer() + "-second";
  ASSERT_TRUE(start_hutchd(second));
  Fields record = redis().wait_for_final(id, 15s);
  EXPECT_EQ(record["status"], "succeeded") << describe_fields(record);
  EXPECT_EQ(record["attempt"], "2");
  EXPECT_EQ(record["worker"], second.consumer);
}

TEST_F(DeliveryTest, RecordsLogsAndOutputFilesExpireAfterTheRetention) {
  ASSERT_TRUE(start_hutchd(options_with({"--retention", "1h"})));
  JobFields job{{"function", "hello"}};
  if (::geteuid() == 0) {
    redis().command({"SET", "k:in", "data"});
    job = {{"function", "file_copier"}, {"files", R"({"a.txt":"k:in"})"}};
  }
  std::string id = redis().xadd_job(job);
  Fields record = redis().wait_for_final(id, 15s);
  ASSERT_EQ(record["status"], "succeeded") << describe_fields(record);
  std::vector<std::string> keys{RedisClient::execution_key(id), RedisClient::logs_key(id)};
  if (::geteuid() == 0) keys.push_back("hutch:out:" + id + "/a.txt");
  for (const std::string &key : keys) {
    Reply ttl = redis().command({"PTTL", key});
    EXPECT_GT(ttl.integer, 3500000) << key;
    EXPECT_LE(ttl.integer, 3600000) << key;
  }
}

TEST_F(DeliveryTest, MaintenanceTrimsAcknowledgedEntriesAndKeepsPendingOnes) {
  redis().command({"XGROUP", "CREATE", "hutch:jobs", "hutchd", "0", "MKSTREAM"});
  std::string done = redis().xadd_job({{"function", "hello"}});
  redis().command({"XREADGROUP", "GROUP", "hutchd", "finished", "COUNT", "1", "STREAMS", "hutch:jobs", ">"});
  redis().command({"XACK", "hutch:jobs", "hutchd", done});
  std::string pending = enqueue_pending_for("ghost", {{"function", "hello"}});
  ASSERT_TRUE(start_hutchd(hutchd_options()));  // trims once connected; lease 30 s: the ghost's entry stays
  auto entry_exists = [this](const std::string &id) {
    return redis().command({"XRANGE", "hutch:jobs", id, id}).elements.size() == 1;
  };
  EXPECT_TRUE(wait_until([&] { return !entry_exists(done); }, 5s)) << "the acknowledged entry was trimmed";
  EXPECT_TRUE(entry_exists(pending)) << "a pending entry is never trimmed";
  EXPECT_EQ(pending_entry(pending)[1].text, "ghost");
}

TEST_F(DeliveryTest, MaintenancePrunesExecutionIdsOlderThanTheRetention) {
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  std::string old_id = std::to_string(now_ms - 120000) + "-0", new_id = std::to_string(now_ms) + "-0";
  redis().command({"ZADD", "hutch:execs", std::to_string(now_ms - 120000), old_id, std::to_string(now_ms), new_id});
  ASSERT_TRUE(start_hutchd(options_with({"--retention", "60s"})));
  auto pruned = [&] { return redis().command({"ZSCORE", "hutch:execs", old_id}).type == Reply::Type::kNil; };
  EXPECT_TRUE(wait_until(pruned, 5s));
  EXPECT_EQ(redis().command({"ZSCORE", "hutch:execs", new_id}).type, Reply::Type::kString);
}

}  // namespace
}  // namespace hutch::test
