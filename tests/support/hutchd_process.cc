#include "tests/support/hutchd_process.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "tests/support/test_cgroup.h"

namespace hutch::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

bool has_line_ending_with(const std::string &text, const std::string &suffix) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.size() >= suffix.size() && line.compare(line.size() - suffix.size(), suffix.size(), suffix) == 0)
      return true;
  }
  return false;
}

// A consumer name as one path component.
std::string cgroup_safe(std::string name) {
  for (char &c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  }
  return name;
}

std::string seconds_text(double seconds) {
  std::ostringstream text;
  text << seconds;
  return text.str();
}

}  // namespace

std::string default_hutchd_path() {
  const char *other = std::getenv("HUTCH_TEST_HUTCHD");
  if (other != nullptr && *other != '\0') return other;
#ifdef HUTCHD_PATH
  return HUTCHD_PATH;
#else
  return "";
#endif
}

std::vector<std::string> HutchdOptions::argv() const {
  std::string path = executable.empty() ? default_hutchd_path() : executable;
  std::vector<std::string> args = {path, "--redis", redis_url, "--concurrency", std::to_string(concurrency)};
  if (!consumer.empty()) args.insert(args.end(), {"--consumer", consumer});
  if (grace_seconds) args.insert(args.end(), {"--grace", seconds_text(*grace_seconds)});
  if (log_cap) args.insert(args.end(), {"--log-cap", *log_cap});
  for (const auto &[name, function_path] : functions) args.insert(args.end(), {"--function", name + "=" + function_path});
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return args;
}

HutchdProcess::HutchdProcess(HutchdOptions options)
    : options_(std::move(options)), directory_("hutch-test-hutchd"), log_path_(directory_.path() + "/hutchd.log") {}

HutchdProcess::~HutchdProcess() {
  if (running()) stop_process(pid_, SIGTERM, 10s);
  if (!test_cgroup_.empty()) remove_empty_test_cgroup(test_cgroup_);
}

testing::AssertionResult HutchdProcess::start(std::chrono::milliseconds timeout) {
  if (directory_.path().empty()) return testing::AssertionFailure() << "mkdtemp for the hutchd log failed";
  std::vector<std::string> args = options_.argv();
  std::string command_line;
  for (const auto &arg : args) command_line += (command_line.empty() ? "" : " ") + arg;
  std::string error;
  wait_status_.reset();
  ChildSetup setup = options_.setup;
  if (setup.join_cgroup_procs.empty()) {
    // A fresh one per start, as systemd gives a unit on each start (it removes the last run's cgroup once its
    // processes are gone): cgroup v2 lets no process join a cgroup whose controllers a hutchd enabled.
    static int started = 0;
    test_cgroup_ = "hutchd-" + std::to_string(::getpid()) + "-" + std::to_string(++started) +
                   (options_.consumer.empty() ? "" : "-" + cgroup_safe(options_.consumer));
    setup.join_cgroup_procs = own_test_cgroup(test_cgroup_);
    if (setup.join_cgroup_procs.empty()) test_cgroup_.clear();
  }
  pid_ = spawn_process(args, options_.environment, log_path_, /*die_with_parent=*/true, &error, setup);
  if (pid_ < 0) return testing::AssertionFailure() << "start " << command_line << ": " << error;

  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (has_line_ending_with(log_text(), "ready")) return testing::AssertionSuccess();
    if (!running())
      return testing::AssertionFailure() << "hutchd ended before it was ready ("
                                         << describe_wait_status(wait_status_.value_or(-1)) << "): "
                                         << command_line << "\n--- hutchd log ---\n" << log_text();
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(20ms);
  }
  return testing::AssertionFailure() << "hutchd did not log a line ending with 'ready' within " << timeout.count()
                                     << " ms: " << command_line << "\n--- hutchd log ---\n" << log_text();
}

std::optional<int> HutchdProcess::wait(std::chrono::milliseconds timeout) {
  if (wait_status_) return wait_status_;
  if (pid_ <= 0) return std::nullopt;
  wait_status_ = wait_for_exit(pid_, timeout);
  return wait_status_;
}

std::optional<int> HutchdProcess::stop(int signal, std::chrono::milliseconds timeout) {
  if (wait_status_) return wait_status_;
  if (pid_ <= 0) return std::nullopt;
  ::kill(pid_, signal);
  return wait(timeout);
}

bool HutchdProcess::running() { return pid_ > 0 && !wait(0ms).has_value(); }

std::string HutchdProcess::log_text() const { return read_file_text(log_path_); }

std::string HutchdProcess::sanitizer_report() const {
  std::string text = log_text();
  size_t first = std::string::npos;
  // ASan and LSan open a report with "ERROR: ...Sanitizer"; UBSan with "FILE:LINE:COLUMN: runtime error: "
  // (and no summary when abort_on_error ends it first). A job's own words never reach hutchd's log this way.
  for (const char *marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer"}) first = std::min(first, text.find(marker));
  for (size_t at = text.find(": runtime error: "); at != std::string::npos; at = text.find(": runtime error: ", at + 1)) {
    if (at > 0 && std::isdigit(static_cast<unsigned char>(text[at - 1]))) {
      first = std::min(first, at);
      break;
    }
  }
  if (first == std::string::npos) return "";
  size_t line_start = text.rfind('\n', first);
  return text.substr(line_start == std::string::npos ? 0 : line_start + 1);
}

bool HutchdProcess::wait_for_log(const std::string &text, std::chrono::milliseconds timeout) const {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (log_text().find(text) != std::string::npos) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

}  // namespace hutch::test
