// Attacks on other processes (issue 3: 6, 10, 13): kill(-1), a daemon that tries to outlive its job, and a
// job spying on another one running at the same time. Each job has its own PID namespace, uid, /tmp and
// working directory; when its function ends, its init exits and the kernel kills what is left.
#include <algorithm>
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "gmock/gmock.h"
#include "tests/security/security_test.h"
#include "tests/support/record_checks.h"

using namespace std::chrono_literals;
using testing::HasSubstr;
using testing::IsEmpty;

namespace hutch::test {
namespace {

// kill(-1, SIGKILL) reaches only the job's own processes: another job running at the same time, hutchd and
// its spawners all live on. In its PID namespace the attacker sees only its init (pid 1, which kill(-1)
// skips) and itself (skipped too), so the kernel finds nobody to signal: ESRCH, and the attacker ends
// normally.
TEST_F(SecurityTest, KillMinusOneKillsOnlyTheJobsOwnProcesses) {
  HUTCH_REQUIRE_ROOT();
  std::string bystander = redis().xadd_job({{"function", "sleep"}, {"input", R"({"seconds":1.5})"}});
  ASSERT_FALSE(bystander.empty());
  redis().wait_for_status(bystander, {"running"}, 10s);
  Fields attack = run_job({{"function", "kill_everyone"}, {"timeout", "10"}});
  expect_denied_without_error(attack);
  EXPECT_EQ(wait_for_log_line(redis(), attack["id"], "kill(-1, SIGKILL) returned ", 1s),
            "kill(-1, SIGKILL) returned -1 (ESRCH)");
  Fields survivor = redis().wait_for_final(bystander, 15s);
  expect_denied_without_error(survivor);
  expect_hutchd_still_serves();
}

// A double-forked, setsid daemon with its descriptors closed ends with the job: the job does not wait for
// it, and it is gone from the host right after.
TEST_F(SecurityTest, DaemonDiesWithItsJob) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "daemonize"}, {"input", R"({"seconds":30})"}, {"timeout", "10"}});
  expect_denied_without_error(record);
  auto duration = parse_decimal_text(record["duration"]);
  ASSERT_TRUE(duration) << describe_fields(record);
  EXPECT_LT(*duration, 2.0) << "the job ended with its function, not with its daemon";
  int daemon = output_of(record).value("daemon", 0);
  ASSERT_GT(daemon, 0) << describe_fields(record);

  auto deadline = std::chrono::steady_clock::now() + 2s;
  std::vector<int> living = living_processes_of(DAEMONIZE_PATH, {daemon});
  while (!living.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    living = living_processes_of(DAEMONIZE_PATH, {daemon});
  }
  EXPECT_THAT(living, IsEmpty()) << "the daemon outlived its job (host pids)";
  for (int pid : living) ::kill(pid, SIGKILL);
  expect_hutchd_still_serves();  // also: no process of a sandbox uid, nothing in the job cgroups
}

struct Neighbours {
  Fields victim, spy;
  nlohmann::json victim_output, spy_output;
};

// Starts the victim, waits until it is ready, then runs the spy against it while it sleeps.
Neighbours run_neighbours(SecurityTest &test, RedisClient &redis, const std::string &tag) {
  Neighbours result;
  std::string victim = redis.xadd_job(
      {{"function", "neighbour"}, {"input", nlohmann::json{{"tag", tag}, {"seconds", 3}}.dump()}, {"timeout", "10"}});
  redis.wait_for_status(victim, {"running"}, 10s);
  std::string listening = wait_for_log_line(redis, victim, "listening on port ", 10s);
  EXPECT_FALSE(wait_for_log_line(redis, victim, "ready", 10s).empty()) << "the victim never got ready";
  int port = listening.empty() ? 0 : std::stoi(listening.substr(18));
  int victim_pid = test.host_pid_of_function(NEIGHBOUR_PATH);
  EXPECT_GT(victim_pid, 0) << "the victim's host pid was not found";
  std::string spy =
      redis.xadd_job({{"function", "spy_on_neighbour"},
                      {"input", nlohmann::json{{"tag", tag}, {"victim_pid", victim_pid}, {"tcp_port", port}}.dump()},
                      {"timeout", "10"}});
  result.spy = redis.wait_for_final(spy, 20s);
  result.victim = redis.wait_for_final(victim, 20s);
  result.spy_output = output_of(result.spy);
  result.victim_output = output_of(result.victim);
  return result;
}

// Job B, started while job A runs, finds none of A's files and none of its processes, and cannot kill it.
TEST_F(SecurityTest, TwoJobsCannotSeeEachOthersFilesOrProcesses) {
  HUTCH_REQUIRE_ROOT();
  Neighbours jobs = run_neighbours(*this, redis(), "files");
  expect_denied_without_error(jobs.spy);
  const nlohmann::json &spy = jobs.spy_output;
  EXPECT_EQ(spy["entries"].value("/tmp", nlohmann::json()), nlohmann::json::array()) << "B's /tmp is its own, empty";
  // B's working directory is its own too: only its own (empty) in/ and out/.
  nlohmann::json work = spy["entries"].value(".", nlohmann::json::array());
  std::vector<std::string> names;
  for (const auto &name : work) names.push_back(name.get<std::string>());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"in", "out"})) << "B's working directory: " << work.dump();
  const nlohmann::json victim_files = spy.value("victim_files", nlohmann::json::object());
  EXPECT_EQ(victim_files.size(), 2u) << spy.dump();
  for (const auto &[path, result] : victim_files.items()) EXPECT_EQ(result, "ENOENT") << path;
  EXPECT_EQ(spy["proc"], (nlohmann::json{1, 2})) << "B's /proc shows its init and itself";
  EXPECT_EQ(spy["alive"], (nlohmann::json{1})) << "of pids 1-4096, B can find only its own init";
  EXPECT_EQ(spy["killed"], nlohmann::json::array());
  EXPECT_EQ(spy.value("victim_pid", "?"), "ESRCH") << "A's host pid does not exist in B's namespace";

  SCOPED_TRACE("A must not be harmed");
  expect_denied_without_error(jobs.victim);
  EXPECT_EQ(jobs.victim_output.value("files_intact", false), true) << jobs.victim_output.dump();
  expect_hutchd_still_serves();
}

// Nor can B reach a socket A listens on: A's loopback port or its abstract unix socket.
TEST_F(SecurityTest, TwoJobsCannotReachEachOthersSockets) {
  HUTCH_REQUIRE_ROOT();
  Neighbours jobs = run_neighbours(*this, redis(), "sockets");
  expect_denied_without_error(jobs.spy);
  nlohmann::json sockets = jobs.spy_output.value("sockets", nlohmann::json::object());
  EXPECT_NE(sockets.value("tcp", "connected"), "connected") << "B reached A's port on 127.0.0.1";
  EXPECT_NE(sockets.value("unix", "connected"), "connected") << "B reached A's abstract unix socket";
  expect_denied_without_error(jobs.victim);
  EXPECT_EQ(jobs.victim_output.value("tcp_connections", -1), 0) << jobs.victim_output.dump();
  EXPECT_EQ(jobs.victim_output.value("unix_connections", -1), 0) << jobs.victim_output.dump();
  expect_hutchd_still_serves();
}

}  // namespace
}  // namespace hutch::test
