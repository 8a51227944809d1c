#include "tests/support/hutch_test.h"

#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "queue/redis_url.h"

using namespace std::chrono_literals;

namespace hutch::test {
namespace {

int next_consumer_number() {
  static int counter = 0;
  return ++counter;
}

}  // namespace

bool running_in_ci() {
  const char *ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

std::string hutchd_path() { return default_hutchd_path(); }
std::string hutch_cli_path() { return HUTCH_CLI_PATH; }
std::string hutch_fn_path() { return HUTCH_FN_PATH; }
std::string hutch_image_path() { return HUTCH_IMAGE_PATH; }

void HutchTest::SetUp() {
  // Unique per test and per process: ctest runs each test in its own process against one shared server.
  consumer_ = "test-" + std::to_string(::getpid()) + "-" + std::to_string(next_consumer_number());
  redis_server_ = std::make_unique<RedisServer>();
  redis_server_->set_append_only(own_redis_server() && redis_append_only());
  if (own_redis_server()) configure_redis_server(*redis_server_);
  if (HasFatalFailure()) return;
  ASSERT_TRUE(redis_server_->start(own_redis_server()));
  client_ = std::make_unique<RedisClient>(redis_server_->url());
  if (start_hutchd_in_set_up()) {
    ASSERT_TRUE(start_hutchd(hutchd_options()));
  }
}

void HutchTest::TearDown() {
  if (hutchd_ && hutchd_->running()) {
    // Every test ends with the shutdown a service manager would do: a hutchd that hangs on SIGTERM or dies
    // from it fails the test that left it running. The bound allows the grace period plus time to flush
    // the last writes.
    auto grace = std::chrono::duration<double>(hutchd_->options().grace_seconds.value_or(30));
    auto bound = std::chrono::duration_cast<std::chrono::milliseconds>(grace) + 15s;
    std::optional<int> status = hutchd_->stop(SIGTERM, bound);
    EXPECT_TRUE(status.has_value()) << "hutchd did not exit within " << bound.count()
                                    << " ms of SIGTERM at the end of the test";
    if (status) {
      EXPECT_EQ(describe_wait_status(*status), "exit code 0") << "hutchd's exit on SIGTERM";
    }
  }
  if (hutchd_) {
    // A sanitized hutchd aborts at its first report, which no test causes on purpose.
    if (std::optional<int> status = hutchd_->wait(0ms)) {
      EXPECT_NE(describe_wait_status(*status), "signal SIGABRT") << "hutchd aborted during the test";
    }
    EXPECT_EQ(hutchd_->sanitizer_report(), "") << "hutchd's sanitizer report";
  }
  print_hutchd_log_if_failed();
  hutchd_.reset();
  client_.reset();
  redis_server_.reset();
}

void HutchTest::print_hutchd_log_if_failed() {
  if (hutchd_ && HasFailure())
    std::cerr << "--- hutchd log (" << consumer_ << ") ---\n" << hutchd_->log_text() << "--- end of hutchd log ---\n";
}

HutchdOptions HutchTest::hutchd_options() {
  HutchdOptions options;
  options.executable = hutchd_path();
  options.redis_url = redis_server_->url();
  options.concurrency = 2;
  // Long enough for every job a test lets finish; short enough that a failed test's teardown is quick.
  options.grace_seconds = 5;
  // hutchd finds hutch-fn and hutch-image beside itself or through HUTCH_FN and HUTCH_IMAGE; the build tree
  // keeps them in different folders.
  options.environment = {"HUTCH_FN=" + hutch_fn_path(), "HUTCH_IMAGE=" + hutch_image_path()};
  options.consumer = consumer_;
  options.functions = {
      {"balloon", BALLOON_PATH},         {"spinner", SPINNER_PATH},   {"forbidden_syscall", FORBIDDEN_SYSCALL_PATH},
      {"log_flood", LOG_FLOOD_PATH},     {"orphans", ORPHANS_PATH},   {"fork_bomb", FORK_BOMB_PATH},
      {"exit_code", EXIT_CODE_PATH},     {"probe", PROBE_PATH}, {"file_copier", FILE_COPIER_PATH},
  };
  return options;
}

testing::AssertionResult HutchTest::start_hutchd(HutchdOptions options) {
  if (hutchd_) {
    EXPECT_EQ(hutchd_->sanitizer_report(), "") << "the replaced hutchd's sanitizer report";
  }
  print_hutchd_log_if_failed();
  hutchd_.reset();
  hutchd_ = std::make_unique<HutchdProcess>(std::move(options));
  return hutchd_->start();
}

CommandResult HutchTest::run_hutch(std::vector<std::string> args, const std::string &url) {
  args.insert(args.begin(), {hutch_cli_path(), "--redis", url.empty() ? redis_server_->url() : url});
  return run_command(args, 60s);
}

Fields HutchTest::run_job(const JobFields &fields, std::chrono::milliseconds timeout) {
  std::string id = redis().xadd_job(fields);
  if (id.empty()) return {};
  return redis().wait_for_final(id, timeout);
}

nlohmann::json HutchTest::probe(const std::string &extra_input) {
  auto address = parse_redis_url(redis_server_->url());
  EXPECT_TRUE(address) << redis_server_->url();
  std::string input = "{\"connect_port\":" + std::to_string(address ? address->port : 0) + extra_input + "}";
  Fields record = run_job({{"function", "probe"}, {"input", input}});
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
  nlohmann::json report = nlohmann::json::parse(record["output"], nullptr, /*allow_exceptions=*/false);
  EXPECT_TRUE(report.is_object()) << record["output"];
  return report.is_object() ? report : nlohmann::json::object();
}

std::vector<int> HutchTest::orphans_still_running(const std::string &id, size_t expected) {
  std::vector<int> children;
  for (const auto &entry : redis().xrange(RedisClient::logs_key(id))) {
    const std::string line = entry.get("line");
    if (line.rfind("child ", 0) == 0) children.push_back(std::stoi(line.substr(6)));
  }
  EXPECT_EQ(children.size(), expected) << "orphans prints one line per child";
  auto deadline = std::chrono::steady_clock::now() + 1s;
  std::vector<int> living = living_processes_of(ORPHANS_PATH, children);
  while (!living.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    living = living_processes_of(ORPHANS_PATH, children);
  }
  for (int pid : living) ::kill(pid, SIGKILL);  // don't leave them to the next test
  return living;
}

void HutchTest::expect_fork_bomb_stopped_by_pids_limit() {
  Fields record = run_job({{"function", "fork_bomb"}, {"input", R"({"max_forks":3000,"seconds":3})"}});
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
  nlohmann::json output = nlohmann::json::parse(record["output"], nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(output.is_object()) << record["output"];
  EXPECT_LT(output.value("forks_before_deadline", 1000), 256) << output.dump();
  EXPECT_GT(output.value("eagain", 0), 0) << output.dump();
}

}  // namespace hutch::test
