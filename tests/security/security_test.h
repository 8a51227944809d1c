// The fixture of the adversarial suite (issue 3): a real hutchd with every attack program registered as a
// local function, and the checks each test makes after its attack: hutchd still answers, a normal job right
// after succeeds, and nothing runs on as a sandbox uid. hutchd gets a uid range of its own (--uid-base
// derived from the test's pid), so "a process with a sandbox uid" means one of this test's jobs, never a
// job of another hutchd running on the same machine.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/hutch_test.h"

namespace hutch::test {

// The record's output as a JSON object; a failure (and an empty object) when it is not one.
nlohmann::json output_of(const Fields &record);

// An attack that was denied rather than killed runs to its own end: the record says `succeeded`, exit code
// 0, and has no `error` sentence at all (docs/protocol.md: `error` is there for every other status).
void expect_denied_without_error(const Fields &record);

// The first log line of execution `id` that starts with `prefix`, waiting up to `timeout`; "" if none came.
std::string wait_for_log_line(RedisClient &redis, const std::string &id, const std::string &prefix,
                              std::chrono::milliseconds timeout);

class SecurityTest : public HutchTest {
 public:
  // The host pid of the job's first process (pid 2 inside its namespace) running `executable` as one of this
  // hutchd's sandbox uids; 0 if none.
  int host_pid_of_function(const std::string &executable);

 protected:
  HutchdOptions hutchd_options() override;

  uid_t uid_base() const { return uid_base_; }
  int uid_count() const { return uid_count_; }
  // The loopback port of the Redis hutchd reads (what an attacker would want to reach).
  int redis_port();

  // The after-check of every attack: hutchd alive, a normal job right after succeeds, no process left with
  // one of this hutchd's sandbox uids, and none in its job cgroups.
  void expect_hutchd_still_serves();
  void expect_no_sandbox_process_left();

 private:
  std::vector<int> job_cgroup_leftovers();

  uid_t uid_base_ = 0;
  int uid_count_ = 0;
};

}  // namespace hutch::test
