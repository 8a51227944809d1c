// kill -9 of a supervisor with 20 jobs in flight while a second one runs: the second takes every job over
// once the lease (2 s here) has passed and runs it again as attempt 2; each job ends with exactly one final
// record; the dead supervisor's sandboxes die with it, and the next start-up sweep removes its cgroups.
#include <signal.h>

#include <iostream>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/faults/fault_support.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;
using Clock = std::chrono::steady_clock;

constexpr size_t kJobs = 20;

// Polls `done` every 50 ms up to `bound`; true once it held.
bool eventually(const std::function<bool()> &done, std::chrono::milliseconds bound) {
  auto deadline = Clock::now() + bound;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

class SupervisorCrashTest : public FaultTest {
 protected:
  // The fixture's hutchd is A: it alone runs while the jobs are taken, so all 20 are A's.
  HutchdOptions hutchd_options() override {
    HutchdOptions options = HutchTest::hutchd_options();
    options.concurrency = kJobs;
    options.extra_args.insert(options.extra_args.end(), {"--lease", kTestLeaseSeconds});
    return options;
  }
};

TEST_F(SupervisorCrashTest, KillNineWithTwentyJobsInFlightEachEndsOnceAsAttemptTwoOnTheOther) {
  FinalEventLedger ledger(redis_server().url());
  const std::string a = consumer();
  std::vector<std::string> ids;
  for (size_t i = 0; i < kJobs; ++i)
    ids.push_back(redis().xadd_job({{"function", "sleep"}, {"input", R"({"seconds":4})"}, {"timeout", "30"}}));
  ASSERT_TRUE(eventually([&] {
    auto statuses = record_field_of(redis(), ids, "status");
    return std::count(statuses.begin(), statuses.end(), "running") == static_cast<long>(kJobs);
  }, 30s)) << "A runs all 20 jobs";
  for (const std::string &worker : record_field_of(redis(), ids, "worker")) ASSERT_EQ(worker, a);
  for (const std::string &attempt : record_field_of(redis(), ids, "attempt")) ASSERT_EQ(attempt, "1");

  std::vector<pid_t> a_children = children_of(hutchd().pid());
  std::vector<pid_t> in_a_cgroups = processes_in_cgroups_of(a);
  std::cout << "[ crash ] A (pid " << hutchd().pid() << ") runs " << kJobs << " jobs: " << a_children.size()
            << " child processes, " << in_a_cgroups.size() << " processes in " << cgroup_directories_of(a).size()
            << " cgroup directories" << std::endl;
  // What is checked gone below must have been there: each running job is a child of A and in A's cgroups.
  ASSERT_GE(a_children.size(), kJobs) << "A's sandboxes are its children (CLONE_PARENT from the spawners too)";
  ASSERT_GE(in_a_cgroups.size(), kJobs) << "A's jobs are in A's cgroups";

  HutchdProcess *b = start_supervisor(supervisor_options(a + "-b", kJobs));
  ASSERT_NE(b, nullptr);
  auto killed_at = Clock::now();
  std::optional<int> a_status = hutchd().stop(SIGKILL, 10s);
  ASSERT_TRUE(a_status.has_value());
  EXPECT_EQ(describe_wait_status(*a_status), "signal SIGKILL");

  // No process of A's outlives it: its children (the slot spawners) and everything in its cgroups die with
  // it (parent-death signal).
  bool gone = eventually([&] {
    return still_living(a_children).empty() && processes_in_cgroups_of(a).empty() &&
           still_living(in_a_cgroups).empty();
  }, 10s);
  EXPECT_TRUE(gone) << "A's processes still running 10 s after kill -9: " << still_living(a_children).size()
                    << " children, " << processes_in_cgroups_of(a).size() << " in its cgroups";

  size_t finished = wait_until_all_final(redis(), ids, 60s);
  double recovered = std::chrono::duration<double>(Clock::now() - killed_at).count();
  std::cout << "[ crash ] " << finished << " of " << kJobs << " jobs final " << recovered << " s after the kill"
            << std::endl;
  ASSERT_EQ(finished, kJobs);
  auto statuses = record_field_of(redis(), ids, "status");
  auto attempts = record_field_of(redis(), ids, "attempt");
  auto workers = record_field_of(redis(), ids, "worker");
  for (size_t i = 0; i < kJobs; ++i) {
    SCOPED_TRACE(ids[i]);
    EXPECT_EQ(statuses[i], "succeeded") << describe_fields(redis().record(ids[i]));
    EXPECT_EQ(attempts[i], "2") << "the interrupted attempt was 1";
    EXPECT_EQ(workers[i], b->options().consumer);
  }
  // The retry says so in the job's log.
  std::string log_text;
  for (const StreamEntry &entry : redis().xrange(RedisClient::logs_key(ids[0]))) log_text += entry.get("line") + "\n";
  EXPECT_THAT(log_text, HasSubstr("attempt 2 of 3"));
  expect_exactly_one_final_record(redis(), ledger, ids);
  Reply pending = redis().command({"XPENDING", "hutch:jobs", "hutchd"});
  ASSERT_EQ(pending.type, Reply::Type::kArray) << pending.describe();
  EXPECT_EQ(pending.elements[0].integer, 0) << "every entry acknowledged: " << pending.describe();

  // A's cgroup subtree is left behind (nobody was alive to remove it) until a supervisor starts: B again.
  size_t a_directories = cgroup_directories_of(a).size();
  std::cout << "[ crash ] A's cgroup directories before B's restart: " << a_directories << std::endl;
  ASSERT_GT(a_directories, 0u) << "A's cgroups are there for B's next start-up to remove";
  expect_clean_stop(*b);
  HutchdProcess *b_again = start_supervisor(supervisor_options(a + "-b", 2));
  ASSERT_NE(b_again, nullptr);
  auto left = cgroup_directories_of(a);
  EXPECT_TRUE(left.empty()) << "B's start-up sweep removes A's cgroups; left: " << (left.empty() ? "" : left[0]);
  Fields hello = run_job({{"function", "hello"}});
  EXPECT_EQ(hello["status"], "succeeded") << describe_fields(hello);
  EXPECT_FALSE(cgroup_directories_of(a + "-b").empty()) << "B has cgroups of its own to remove when it stops";
  expect_clean_stop(*b_again);
  EXPECT_TRUE(cgroup_directories_of(a + "-b").empty()) << "B removes its own cgroups when it stops";
  EXPECT_TRUE(cgroup_directories_of(a).empty());
}

}  // namespace
}  // namespace hutch::test
