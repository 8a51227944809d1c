// redis-server restarted (SHUTDOWN, then started again on the same port and data directory, appendonly yes
// with appendfsync always, as docs/reliability.md asks of a production Redis) while jobs run and while a
// producer enqueues, retrying the XADDs that fail: nothing is lost, every job ends with exactly one final
// record, and hutchd stays up.
#include <atomic>
#include <functional>
#include <iostream>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"
#include "queue/keys.h"
#include "tests/faults/fault_support.h"

namespace hutch::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kLongJobs = 8;
constexpr size_t kProducedJobs = 200;
constexpr int kRestarts = 2;

class RedisRestartFaultTest : public FaultTest {
 protected:
  bool own_redis_server() override { return true; }
  bool redis_append_only() override { return true; }
  HutchdOptions hutchd_options() override {
    HutchdOptions options = HutchTest::hutchd_options();
    options.concurrency = 4;
    // --verbose: hutchd logs each job's end, which is how the test sees jobs end while Redis is down.
    options.extra_args.insert(options.extra_args.end(), {"--lease", kTestLeaseSeconds, "--verbose"});
    return options;
  }

  // Lines of hutchd's log that say a job ended (--verbose: "DEBUG job <id> <status>").
  size_t jobs_ended_in_log() {
    std::string log = hutchd().log_text();
    size_t count = 0;
    for (const char *status : {" succeeded\n", " failed\n", " error\n", " timeout\n", " killed\n", " oom\n"}) {
      for (size_t at = log.find(status); at != std::string::npos; at = log.find(status, at + 1)) ++count;
    }
    return count;
  }
};

// Polls `done` every 20 ms up to `bound`; true once it held.
bool eventually(const std::function<bool()> &done, std::chrono::milliseconds bound) {
  auto deadline = Clock::now() + bound;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// Enqueues `count` short jobs one at a time on a connection of its own; an XADD that fails (Redis is
// down or loading) is tried again every 50 ms, for 20 s at most per job.
class Producer {
 public:
  Producer(std::string url, size_t count) : url_(std::move(url)), count_(count) {
    thread_ = std::thread([this] { run(); });
  }
  ~Producer() { join(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  std::vector<std::string> ids() const {
    std::lock_guard lock(mutex_);
    return ids_;
  }
  size_t retries() const { return retries_.load(); }
  size_t given_up() const { return given_up_.load(); }

 private:
  void run() {
    std::unique_ptr<RedisClient> client;
    for (size_t i = 0; i < count_; ++i) {
      auto deadline = Clock::now() + 20s;
      for (;;) {
        if (auto id = try_xadd(client, i)) {
          std::lock_guard lock(mutex_);
          ids_.push_back(*id);
          break;
        }
        if (Clock::now() >= deadline) {
          given_up_.fetch_add(1);
          break;
        }
        retries_.fetch_add(1);
        std::this_thread::sleep_for(50ms);
      }
      std::this_thread::sleep_for(15ms);  // spread over the restarts
    }
  }

  std::optional<std::string> try_xadd(std::unique_ptr<RedisClient> &client, size_t i) {
    try {
      if (!client) client = std::make_unique<RedisClient>(url_);
      std::string function = i % 4 == 0 ? "sleep" : "hello";
      std::string input = i % 4 == 0 ? R"({"seconds":0.5})" : R"({"name":"job )" + std::to_string(i) + R"("})";
      Reply reply = client->command({"XADD", std::string(keys::kJobsStream), "*", "function", function, "input", input});
      if (reply.type == Reply::Type::kString) return reply.text;
    } catch (const std::exception &) {
      client.reset();  // could not connect: Redis is down
    }
    return std::nullopt;
  }

  std::string url_;
  size_t count_;
  mutable std::mutex mutex_;
  std::vector<std::string> ids_;
  std::atomic<size_t> retries_{0};
  std::atomic<size_t> given_up_{0};
  std::thread thread_;
};

TEST_F(RedisRestartFaultTest, RestartsWhileJobsRunAndAreEnqueuedLoseNothing) {
  FinalEventLedger ledger(redis_server().url());
  std::vector<std::string> long_ids;
  for (size_t i = 0; i < kLongJobs; ++i)
    long_ids.push_back(redis().xadd_job({{"function", "sleep"}, {"input", R"({"seconds":3})"}, {"timeout", "60"}}));
  redis().wait_for_status(long_ids[0], {"running"}, 15s);

  Producer producer(redis_server().url(), kProducedJobs);
  for (int round = 0; round < kRestarts; ++round) {
    // Each restart comes once the producer is a share further, so that enqueueing spans them all.
    size_t enqueued = (round + 1) * kProducedJobs / (kRestarts + 1);
    ASSERT_TRUE(eventually([&] { return producer.ids().size() >= enqueued; }, 30s))
        << "the producer enqueued only " << producer.ids().size() << " of " << enqueued;
    size_t retries = producer.retries();
    size_t ended = jobs_ended_in_log();
    ASSERT_TRUE(redis_server().shutdown());
    // Down until jobs end and enqueueing fails while it is: one job's end in hutchd's log, and the producer
    // refused ten times (half a second of retries).
    EXPECT_TRUE(eventually([&] { return jobs_ended_in_log() > ended; }, 15s)) << "no job ended while Redis was down";
    EXPECT_TRUE(eventually([&] { return producer.retries() >= retries + 10; }, 15s))
        << "the producer never met the stopped Redis";
    EXPECT_TRUE(hutchd().running()) << "hutchd keeps running without Redis";
    ASSERT_TRUE(redis_server().restart());
    std::cout << "[ redis restart ] round " << round + 1 << ": restarted; " << producer.ids().size()
              << " jobs enqueued so far" << std::endl;
  }
  producer.join();
  EXPECT_EQ(producer.given_up(), 0u);
  std::cout << "[ redis restart ] producer: " << producer.ids().size() << " jobs enqueued, " << producer.retries()
            << " XADD retries" << std::endl;

  std::vector<std::string> ids = long_ids;
  for (const std::string &id : producer.ids()) ids.push_back(id);
  // An XADD whose reply was lost in a restart is in the stream though the producer retried it: its entry
  // must be run like any other.
  std::set<std::string> known(ids.begin(), ids.end());
  size_t unknown = 0;
  for (const StreamEntry &entry : redis().xrange(std::string(keys::kJobsStream))) {
    if (!known.contains(entry.id)) {
      ids.push_back(entry.id);
      ++unknown;
    }
  }
  std::cout << "[ redis restart ] " << unknown << " stream entries the producer did not learn the id of" << std::endl;

  size_t finished = wait_until_all_final(redis(), ids, 90s);
  EXPECT_EQ(finished, ids.size()) << "every job enqueued ends with a final record";
  // Events published while the subscriber reconnected after a restart are missed: at most one per id.
  expect_exactly_one_final_record(redis(), ledger, ids, /*events_may_miss=*/true);
  auto statuses = record_field_of(redis(), ids, "status");
  EXPECT_EQ(static_cast<size_t>(std::count(statuses.begin(), statuses.end(), "succeeded")), ids.size());

  ASSERT_TRUE(hutchd().running()) << "hutchd is still up";
  Fields hello = run_job({{"function", "hello"}});
  EXPECT_EQ(hello["status"], "succeeded") << describe_fields(hello);
}

}  // namespace
}  // namespace hutch::test
