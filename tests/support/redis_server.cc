#include "tests/support/redis_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "tests/support/process.h"
#include "tests/support/redis_client.h"

namespace hutch::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A port the kernel just handed out and took back. Another process could grab it before redis-server
// binds it; launch() retries with a new port when the server dies at start.
int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) == 0)
    port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

std::string make_directory() {
  std::string pattern = "/tmp/hutch-test-redis.XXXXXX";
  return ::mkdtemp(pattern.data()) ? pattern : "";
}

}  // namespace

RedisServer::~RedisServer() {
  if (pid_ > 0) stop_process(pid_, SIGTERM, 5s);
  std::error_code ignored;  // a leftover temp directory is not worth failing a test for
  if (!directory_.empty()) std::filesystem::remove_all(directory_, ignored);
}

testing::AssertionResult RedisServer::start(bool own) {
  if (const char *shared = std::getenv("HUTCH_TEST_REDIS_URL"); !own && shared != nullptr && *shared != '\0') {
    url_ = shared;
    self_started_ = false;
  } else {
    self_started_ = true;
    directory_ = make_directory();
    if (directory_.empty()) return testing::AssertionFailure() << "mkdtemp for redis-server failed";
    testing::AssertionResult launched = testing::AssertionFailure();
    for (int attempt = 0; attempt < 3 && !launched; ++attempt) {
      port_ = free_loopback_port();
      launched = launch();
    }
    if (!launched) return launched;
  }
  if (auto answered = wait_until_answers(); !answered) return answered;
  Reply flushed = RedisClient(url_).command({"FLUSHALL"});
  if (flushed.is_error()) return testing::AssertionFailure() << "FLUSHALL on " << url_ << ": " << flushed.text;
  return testing::AssertionSuccess();
}

void RedisServer::set_acl_file(std::string acl_file, std::string admin_user, std::string admin_password) {
  acl_file_ = std::move(acl_file);
  admin_user_ = std::move(admin_user);
  admin_password_ = std::move(admin_password);
}

std::string RedisServer::url_as(const std::string &user, const std::string &password) const {
  return "redis://" + user + ":" + password + "@127.0.0.1:" + std::to_string(port_);
}

testing::AssertionResult RedisServer::launch() {
  url_ = acl_file_.empty() ? "redis://127.0.0.1:" + std::to_string(port_) : url_as(admin_user_, admin_password_);
  std::string error;
  std::vector<std::string> args = {"/usr/bin/redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                   "--save", "", "--daemonize", "no", "--dir", directory_};
  if (!acl_file_.empty()) args.insert(args.end(), {"--aclfile", acl_file_});
  if (append_only_) {
    args.insert(args.end(), {"--appendonly", "yes", "--appendfsync", "always"});
  } else {
    args.insert(args.end(), {"--appendonly", "no"});
  }
  pid_ = spawn_process(args, /*extra_environment=*/{},
                       directory_ + "/redis.log", /*die_with_parent=*/true, &error);
  if (pid_ < 0) return testing::AssertionFailure() << "start redis-server: " << error;
  return wait_until_answers();
}

testing::AssertionResult RedisServer::wait_until_answers() {
  auto deadline = Clock::now() + 5s;
  std::string last_error;
  for (;;) {
    if (self_started_ && pid_ > 0) {
      if (auto status = wait_for_exit(pid_, 0ms)) {
        pid_ = -1;
        return testing::AssertionFailure() << "redis-server on port " << port_ << " ended at start ("
                                           << describe_wait_status(*status) << "):\n"
                                           << read_file_text(directory_ + "/redis.log");
      }
    }
    try {
      Reply pong = RedisClient(url_).command({"PING"});
      if (pong.text == "PONG") return testing::AssertionSuccess();
      last_error = pong.describe();
    } catch (const std::exception &error) {
      last_error = error.what();
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(20ms);
  }
  return testing::AssertionFailure() << "Redis at " << url_ << " did not answer PING within 5 s: " << last_error;
}

testing::AssertionResult RedisServer::stop() {
  if (!self_started_) return testing::AssertionFailure() << "the shared server HUTCH_TEST_REDIS_URL is not ours to stop";
  if (pid_ <= 0) return testing::AssertionFailure() << "redis-server is not running";
  int status = stop_process(pid_, SIGTERM, 5s);
  pid_ = -1;
  if (status == -1) return testing::AssertionFailure() << "redis-server did not die";
  return testing::AssertionSuccess();
}

testing::AssertionResult RedisServer::shutdown() {
  if (!self_started_) return testing::AssertionFailure() << "the shared server HUTCH_TEST_REDIS_URL is not ours to shut down";
  if (pid_ <= 0) return testing::AssertionFailure() << "redis-server is not running";
  // The server closes the connection instead of answering: the reply is an I/O error, nothing to check.
  RedisClient(url_).command({"SHUTDOWN"});
  std::optional<int> status = wait_for_exit(pid_, 10s);
  if (!status) {
    stop_process(pid_, SIGKILL, 5s);
    pid_ = -1;
    return testing::AssertionFailure() << "redis-server did not exit within 10 s of SHUTDOWN; killed";
  }
  pid_ = -1;
  return testing::AssertionSuccess();
}

testing::AssertionResult RedisServer::restart() {
  if (!self_started_) return testing::AssertionFailure() << "the shared server HUTCH_TEST_REDIS_URL is not ours to restart";
  if (pid_ > 0) {
    if (auto stopped = stop(); !stopped) return stopped;
  }
  // The port was just released; a brief retry covers a slow socket teardown.
  testing::AssertionResult launched = testing::AssertionFailure();
  for (int attempt = 0; attempt < 5 && !launched; ++attempt) {
    launched = launch();
    if (!launched) std::this_thread::sleep_for(200ms);
  }
  return launched;
}

}  // namespace hutch::test
