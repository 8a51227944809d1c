// The base fixture of the integration tests: a Redis server (shared or self-started, flushed), a client, and
// a real hutchd with the hostile test programs registered as local functions. A test that needs other
// flags overrides hutchd_options(); one that starts hutchd itself overrides start_hutchd_in_set_up().
#pragma once

#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "gtest/gtest.h"
#include "tests/support/hutchd_process.h"
#include "tests/support/process.h"
#include "tests/support/redis_client.h"
#include "tests/support/redis_server.h"

namespace hutch::test {

// "CI runs as root": true when the environment says CI=true.
bool running_in_ci();

class HutchTest : public testing::Test {
 protected:
  void SetUp() override;
  // Stops hutchd with SIGTERM and expects it to exit 0 (docs/protocol.md, "Supervisor"); prints its log when
  // the test failed.
  void TearDown() override;

  // Defaults: concurrency 2, grace 5 s, a consumer name unique to this test, the hostile programs as local
  // functions.
  virtual HutchdOptions hutchd_options();
  virtual bool start_hutchd_in_set_up() { return true; }
  // A test that stops and restarts Redis gets a server of its own, never the shared one.
  virtual bool own_redis_server() { return false; }
  // With own_redis_server(): the server keeps an append-only file with fsync always, so a restart keeps
  // the data, as a production Redis should.
  virtual bool redis_append_only() { return false; }
  // With own_redis_server(): anything else to set on the server before it starts (e.g. an ACL file).
  virtual void configure_redis_server(RedisServer &server) { (void)server; }

  // Starts (another) hutchd with `options`, replacing the current one; fails the test when it never gets ready.
  testing::AssertionResult start_hutchd(HutchdOptions options);

  RedisServer &redis_server() { return *redis_server_; }
  RedisClient &redis() { return *client_; }
  HutchdProcess &hutchd() { return *hutchd_; }
  bool has_hutchd() const { return hutchd_ != nullptr; }
  const std::string &consumer() const { return consumer_; }

  // `hutch --redis <url> args...`, as a user would type it; the test's Redis (as its administrator) unless
  // another URL is given.
  CommandResult run_hutch(std::vector<std::string> args, const std::string &url = "");

  // Enqueues a job and waits for its final record.
  Fields run_job(const JobFields &fields, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Runs tests/programs/probe with {"connect_port": <this test's Redis port><extra_input>} and returns what it
  // reports (an empty object, and a failure, when the job did not succeed).
  nlohmann::json probe(const std::string &extra_input = "");
  // After an `orphans` job: the host pids of the children it logged that still run a second after it ended,
  // killed before returning so none outlives the test. A failure unless it logged `expected` children.
  std::vector<int> orphans_still_running(const std::string &id, size_t expected);
  // Runs fork_bomb (3000 forks at most, for 3 s) and expects hutchd's default pids limit (256) to stop it:
  // the job succeeds, fewer than 256 forks worked, and some met EAGAIN.
  void expect_fork_bomb_stopped_by_pids_limit();

 private:
  void print_hutchd_log_if_failed();

  std::unique_ptr<RedisServer> redis_server_;
  std::unique_ptr<RedisClient> client_;
  std::unique_ptr<HutchdProcess> hutchd_;
  std::string consumer_;
};

// Paths of the programs under test, from compile definitions. HUTCH_TEST_HUTCHD, when set, names another
// hutchd to test (scripts/test runs the integration tests again with the ASan+UBSan build's).
std::string hutchd_path();
std::string hutch_cli_path();
std::string hutch_fn_path();
std::string hutch_image_path();

}  // namespace hutch::test

// Sandbox tests need root for cgroups and namespaces. Outside CI they skip with that reason; in CI (which
// runs as root) a skip would hide a hole, so it fails instead.
#define HUTCH_REQUIRE_ROOT()                                                       \
  do {                                                                             \
    if (::geteuid() != 0) {                                                        \
      if (::hutch::test::running_in_ci()) {                                        \
        FAIL() << "CI runs as root: a skipped sandbox test is a hole";             \
      } else {                                                                     \
        GTEST_SKIP() << "needs root for cgroups and namespaces";                   \
      }                                                                            \
    }                                                                              \
  } while (0)
