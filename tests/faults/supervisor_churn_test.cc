// Three supervisors share 600 jobs while one of them is killed -9 (each time it runs a slot's worth of
// jobs) and started again (a bounded number of rounds, alternately under its old consumer name, which takes its own pending
// entries back at start-up, and under a new one, whose dead predecessor's entries the others claim after
// the lease). Every job ends with exactly one final record; no job is recorded `succeeded` twice.
#include <signal.h>

#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "gtest/gtest.h"
#include "tests/faults/fault_support.h"
#include "tests/support/record_checks.h"

namespace hutch::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kJobs = 600;
constexpr int kConcurrency = 4;
constexpr int kRounds = 6;

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class SupervisorChurnTest : public FaultTest {
 protected:
  bool start_hutchd_in_set_up() override { return false; }

  struct Progress {
    size_t final = 0;    // jobs with a final record
    size_t running = 0;  // jobs `worker` started at or after `since_ms` and is running now
  };
  Progress progress(const std::vector<std::string> &ids, const std::string &worker, int64_t since_ms) {
    std::vector<std::string> workers = record_field_of(redis(), ids, "worker");
    std::vector<std::string> statuses = record_field_of(redis(), ids, "status");
    std::vector<std::string> started = record_field_of(redis(), ids, "started_at");
    Progress progress;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (final_statuses().contains(statuses[i])) ++progress.final;
      auto started_ms = parse_utc_milliseconds(started[i]);
      if (workers[i] == worker && statuses[i] == "running" && started_ms && *started_ms >= since_ms) ++progress.running;
    }
    return progress;
  }

  // Starts a supervisor and notes that its cgroups exist, so that "none left" at the end means something.
  HutchdProcess *start_noting_cgroups(const std::string &name) {
    HutchdProcess *started = start_supervisor(supervisor_options(name, kConcurrency));
    if (started != nullptr && !cgroup_directories_of(name).empty()) had_cgroups_.insert(name);
    return started;
  }

  std::set<std::string> had_cgroups_;
};

TEST_F(SupervisorChurnTest, OneOfThreeKilledAndRestartedRepeatedlyEveryJobEndsOnce) {
  FinalEventLedger ledger(redis_server().url());
  std::vector<std::string> names = {consumer() + "-steady-1", consumer() + "-steady-2"};
  for (const std::string &name : names) ASSERT_NE(start_noting_cgroups(name), nullptr);
  std::string churned_name = consumer() + "-churned-0";
  names.push_back(churned_name);
  int64_t incarnation_ms = now_unix_ms();
  HutchdProcess *churned = start_noting_cgroups(churned_name);
  ASSERT_NE(churned, nullptr);

  // Short sleeps, so that jobs keep starting and ending on every supervisor.
  std::vector<std::string> ids = enqueue_pipelined(
      redis(), {{"function", "sleep"}, {"input", R"({"seconds":0.5})"}, {"timeout", "30"}}, kJobs);
  ASSERT_EQ(ids.size(), kJobs);

  auto started = Clock::now();
  for (int round = 1; round <= kRounds; ++round) {
    // Killed with jobs in flight (once this incarnation runs a full slot's worth), and the kills spread over
    // the whole run whatever this machine's speed: round r comes once r/(rounds+1) of the jobs are final.
    size_t final_before_kill = round * kJobs / (kRounds + 1);
    auto deadline = Clock::now() + 60s;
    for (;;) {
      Progress now = progress(ids, churned_name, incarnation_ms);
      if (now.final >= final_before_kill && now.running >= static_cast<size_t>(kConcurrency)) break;
      ASSERT_LT(Clock::now(), deadline) << churned_name << ": " << now.final << " jobs final (waiting for "
                                        << final_before_kill << "), " << now.running << " of its own running";
      std::this_thread::sleep_for(50ms);
    }
    std::optional<int> status = churned->stop(SIGKILL, 10s);
    ASSERT_TRUE(status.has_value()) << churned->options().consumer << " survived SIGKILL";
    std::vector<std::string> statuses = record_field_of(redis(), ids, "status");
    std::cout << "[ churn ] round " << round << ": killed " << churned->options().consumer << " with "
              << std::count(statuses.begin(), statuses.end(), "running") << " jobs running, "
              << kJobs - std::count(statuses.begin(), statuses.end(), "") -
                     std::count(statuses.begin(), statuses.end(), "running")
              << " final" << std::endl;
    // Even rounds come back under the same name (its pending entries are taken back at start-up), odd
    // rounds under a new one (the others claim the dead one's entries after the lease).
    if (round % 2 == 1) {
      churned_name = consumer() + "-churned-" + std::to_string(round);
      names.push_back(churned_name);
    }
    incarnation_ms = now_unix_ms();
    churned = start_noting_cgroups(churned_name);
    ASSERT_NE(churned, nullptr);
  }

  size_t finished = wait_until_all_final(redis(), ids, 120s);
  double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::cout << "[ churn ] " << finished << " of " << kJobs << " jobs final after " << seconds << " s" << std::endl;
  EXPECT_EQ(finished, kJobs);
  expect_exactly_one_final_record(redis(), ledger, ids);

  std::map<std::string, size_t> by_attempt;
  for (const std::string &attempt : record_field_of(redis(), ids, "attempt")) ++by_attempt[attempt];
  std::cout << "[ churn ] attempts:";
  for (const auto &[attempt, count] : by_attempt) std::cout << " " << attempt << "=" << count;
  std::cout << std::endl;
  EXPECT_EQ(by_attempt.count(""), 0u) << "every record has its attempt";
  auto statuses = record_field_of(redis(), ids, "status");
  for (size_t i = 0; i < kJobs; ++i) {
    EXPECT_TRUE(statuses[i] == "succeeded" || statuses[i] == "abandoned")
        << ids[i] << ": " << describe_fields(redis().record(ids[i]));
  }

  for (auto &supervisor : supervisors_)
    if (supervisor->running()) expect_clean_stop(*supervisor);
  for (const std::string &name : names) {
    EXPECT_TRUE(had_cgroups_.contains(name)) << name << " had no cgroups while it ran: the check below would be empty";
    auto left = cgroup_directories_of(name);
    EXPECT_TRUE(left.empty()) << name << " left cgroups behind, e.g. " << (left.empty() ? "" : left[0]);
  }
}

}  // namespace
}  // namespace hutch::test
