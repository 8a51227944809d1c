// A real hutchd for a test: started with flags, its stderr in a log file, ready once it logs `ready`, and
// always gone when the test ends (SIGTERM, then SIGKILL after a bounded wait).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/process.h"

namespace hutch::test {

// HUTCH_TEST_HUTCHD when set (scripts/test's second pass with the ASan+UBSan build), else the build's
// hutchd (the HUTCHD_PATH compile definition).
std::string default_hutchd_path();

struct HutchdOptions {
  std::string executable;  // default_hutchd_path() unless set
  std::string redis_url;
  int concurrency = 2;
  std::string consumer;
  std::optional<double> grace_seconds;
  std::optional<std::string> log_cap;                        // "1M"
  std::vector<std::pair<std::string, std::string>> functions;  // --function NAME=PATH
  std::vector<std::string> extra_args;
  std::vector<std::string> environment;  // "NAME=value" on top of the test's own environment
  // Runs hutchd as another user (uid, gid, no supplementary groups; the test must be root), after joining
  // these cgroups (cgroup.procs paths), e.g. a cgroup delegated to that user. Without cgroups named here,
  // hutchd joins a fresh test cgroup of its own where scripts/test provides them (test_cgroup.h), as a
  // systemd unit would on each start.
  ChildSetup setup;

  std::vector<std::string> argv() const;
};

class HutchdProcess {
 public:
  explicit HutchdProcess(HutchdOptions options);
  ~HutchdProcess();  // kills it if still running, so no test leaves a hutchd behind
  HutchdProcess(const HutchdProcess &) = delete;
  HutchdProcess &operator=(const HutchdProcess &) = delete;

  // Starts hutchd and waits (up to `timeout`) for a log line ending with `ready`. Fails with its log when it
  // exits first or never gets ready.
  testing::AssertionResult start(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Sends `signal` and waits up to `timeout` for it to exit; returns the wait status, or nullopt when it was
  // still running at the deadline (it is then left running for the destructor to kill).
  std::optional<int> stop(int signal = SIGTERM, std::chrono::milliseconds timeout = std::chrono::seconds(40));
  // Waits for an exit without sending anything.
  std::optional<int> wait(std::chrono::milliseconds timeout);

  bool running();
  pid_t pid() const { return pid_; }
  const HutchdOptions &options() const { return options_; }
  // The test cgroup it was started in (test_cgroup.h), "" when none.
  const std::string &test_cgroup() const { return test_cgroup_; }
  std::string log_text() const;
  // What an ASan/UBSan/LSan build of hutchd reported in its log ("" when nothing): from the first report line
  // on. Such a hutchd aborts at the first report; the fixture fails the test on any.
  std::string sanitizer_report() const;
  // Polls the log until a line contains `text` (bounded).
  bool wait_for_log(const std::string &text, std::chrono::milliseconds timeout) const;

 private:
  HutchdOptions options_;
  TempDir directory_;
  std::string log_path_;
  pid_t pid_ = -1;
  std::optional<int> wait_status_;
  std::string test_cgroup_;  // test_cgroup.h: its name when hutchd was put in one
};

}  // namespace hutch::test
