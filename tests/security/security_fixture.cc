#include <signal.h>
#include <unistd.h>

#include <thread>

#include "gmock/gmock.h"
#include "queue/redis_url.h"
#include "tests/security/host_view.h"
#include "tests/security/security_test.h"
#include "tests/support/record_checks.h"

using namespace std::chrono_literals;

namespace hutch::test {

nlohmann::json output_of(const Fields &record) {
  auto found = record.find("output");
  nlohmann::json output = nlohmann::json::parse(found == record.end() ? "" : found->second, nullptr, false);
  EXPECT_TRUE(output.is_object()) << describe_fields(record);
  return output.is_object() ? output : nlohmann::json::object();
}

void expect_denied_without_error(const Fields &record) {
  EXPECT_EQ(field_or_empty(record, "status"), "succeeded") << describe_fields(record);
  EXPECT_EQ(field_or_empty(record, "exit_code"), "0") << describe_fields(record);
  EXPECT_FALSE(record.contains("error")) << "a denied attack's record has no error: " << describe_fields(record);
}

std::string wait_for_log_line(RedisClient &redis, const std::string &id, const std::string &prefix,
                              std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    for (const auto &entry : redis.xrange(RedisClient::logs_key(id))) {
      if (entry.get("line").rfind(prefix, 0) == 0) return entry.get("line");
    }
    std::this_thread::sleep_for(20ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return "";
}

HutchdOptions SecurityTest::hutchd_options() {
  HutchdOptions options = HutchTest::hutchd_options();
  options.functions.insert(options.functions.end(), {
                                                        {"kill_everyone", KILL_EVERYONE_PATH},
                                                        {"int80_syscall", INT80_SYSCALL_PATH},
                                                        {"open_files_forever", OPEN_FILES_FOREVER_PATH},
                                                        {"fill_tmp", FILL_TMP_PATH},
                                                        {"reach_network", REACH_NETWORK_PATH},
                                                        {"read_secrets", READ_SECRETS_PATH},
                                                        {"write_outside", WRITE_OUTSIDE_PATH},
                                                        {"privileged_calls", PRIVILEGED_CALLS_PATH},
                                                        {"setuid_exec", SETUID_EXEC_PATH},
                                                        {"daemonize", DAEMONIZE_PATH},
                                                        {"open_devices", OPEN_DEVICES_PATH},
                                                        {"neighbour", NEIGHBOUR_PATH},
                                                        {"spy_on_neighbour", SPY_ON_NEIGHBOUR_PATH},
                                                        {"aio_hoard", AIO_HOARD_PATH},
                                                        {"tcp_hoard", TCP_HOARD_PATH},
                                                        {"lock_shared_file", LOCK_SHARED_FILE_PATH},
                                                    });
  // Far above the default 60000 that every other test's hutchd uses, and different for each test process.
  uid_count_ = options.concurrency;
  uid_base_ = static_cast<uid_t>(700000 + (::getpid() % 100000) * uid_count_);
  options.extra_args.insert(options.extra_args.end(), {"--uid-base", std::to_string(uid_base_)});
  return options;
}

int SecurityTest::redis_port() {
  auto address = parse_redis_url(redis_server().url());
  EXPECT_TRUE(address && !address->is_unix()) << "the suite needs Redis on TCP: " << redis_server().url();
  return address ? address->port : 0;
}

int SecurityTest::host_pid_of_function(const std::string &executable) {
  std::vector<int> found = living_processes_of(executable, {2});
  for (int pid : found) {
    auto uid = uid_of(pid);
    if (uid && *uid >= uid_base_ && *uid < uid_base_ + static_cast<uid_t>(uid_count_)) return pid;
  }
  return 0;
}

void SecurityTest::expect_hutchd_still_serves() {
  ASSERT_EQ(::kill(hutchd().pid(), 0), 0) << "hutchd must survive the attack";
  Fields record = run_job({{"function", "hello"}});
  EXPECT_EQ(record["status"], "succeeded") << "a normal job right after the attack: " << record["error"];
  expect_no_sandbox_process_left();
}

// Everything in the job cgroups but the slots' resident spawners (cgroup v1): what a finished job left.
std::vector<int> SecurityTest::job_cgroup_leftovers() {
  std::vector<int> left;
  for (const std::string &procs : job_cgroup_procs_files(hutchd().pid(), consumer())) {
    for (int pid : pids_in(procs)) {
      if (executable_of(pid).ends_with("/hutch-spawner")) continue;
      left.push_back(pid);
    }
  }
  return left;
}

void SecurityTest::expect_no_sandbox_process_left() {
  ASSERT_FALSE(job_cgroup_procs_files(hutchd().pid(), consumer()).empty())
      << "found no job cgroup of hutchd (pid " << hutchd().pid() << "): the check would see nothing";
  // The kernel kills what is left in a job's PID namespace when its init exits; that takes a moment.
  auto deadline = std::chrono::steady_clock::now() + 2s;
  std::vector<int> by_uid = processes_with_uid(uid_base_, uid_count_), in_cgroups = job_cgroup_leftovers();
  while ((!by_uid.empty() || !in_cgroups.empty()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    by_uid = processes_with_uid(uid_base_, uid_count_);
    in_cgroups = job_cgroup_leftovers();
  }
  EXPECT_THAT(by_uid, testing::IsEmpty()) << "host pids still running as a sandbox uid (" << uid_base_ << "+)";
  EXPECT_THAT(in_cgroups, testing::IsEmpty()) << "host pids still in the job cgroups, besides the slots' spawners";
  for (int pid : by_uid) ::kill(pid, SIGKILL);  // don't leave them to the next test
}

}  // namespace hutch::test
