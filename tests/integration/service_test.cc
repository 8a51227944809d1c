// hutchd under systemd's Type=notify: READY=1 once it reads the queue, STOPPING=1 when SIGTERM starts the
// drain, both sent to the datagram socket NOTIFY_SOCKET names (here one the test binds, as systemd would).
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "common/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/hutch_test.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;
using Clock = std::chrono::steady_clock;

class NotifySocket {
 public:
  explicit NotifySocket(const std::string &path) : path_(path) {
    socket_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path.copy(address.sun_path, sizeof address.sun_path - 1);
    if (!socket_ || ::bind(socket_.get(), reinterpret_cast<sockaddr *>(&address), sizeof address) != 0)
      ADD_FAILURE() << "bind " << path << ": " << std::strerror(errno);
  }
  // Datagrams received until one contains `wanted` or `timeout` passes; all of them, in order.
  std::vector<std::string> receive_until(const std::string &wanted, std::chrono::milliseconds timeout) {
    std::vector<std::string> received;
    auto deadline = Clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return received;
      pollfd readable{.fd = socket_.get(), .events = POLLIN, .revents = 0};
      if (::poll(&readable, 1, static_cast<int>(left)) <= 0) continue;
      char buffer[4096];
      ssize_t n = ::recv(socket_.get(), buffer, sizeof buffer, 0);
      if (n <= 0) continue;
      received.emplace_back(buffer, static_cast<size_t>(n));
      if (received.back().find(wanted) != std::string::npos) return received;
    }
  }

 private:
  std::string path_;
  UniqueFd socket_;
};

bool any_contains(const std::vector<std::string> &messages, const std::string &text) {
  for (const std::string &message : messages) {
    if (message.find(text) != std::string::npos) return true;
  }
  return false;
}

std::string joined(const std::vector<std::string> &messages) {
  std::string out;
  for (const std::string &message : messages) out += "[" + message + "] ";
  return out;
}

class ServiceTest : public HutchTest {
 protected:
  bool start_hutchd_in_set_up() override { return false; }
};

TEST_F(ServiceTest, TellsSystemdItIsReadyThenThatItStops) {
  TempDir directory("hutch-test-notify");
  std::string path = directory.path() + "/notify";
  NotifySocket socket(path);
  ASSERT_FALSE(HasFailure());
  HutchdOptions options = hutchd_options();
  options.environment.push_back("NOTIFY_SOCKET=" + path);
  ASSERT_TRUE(start_hutchd(options));

  std::vector<std::string> before = socket.receive_until("READY=1", 5s);
  ASSERT_TRUE(any_contains(before, "READY=1")) << "received: " << joined(before);
  EXPECT_FALSE(any_contains(before, "STOPPING=1")) << joined(before);
  EXPECT_TRUE(any_contains(before, "STATUS=reading hutch:jobs as consumer " + consumer())) << joined(before);

  std::optional<int> status = hutchd().stop(SIGTERM, 20s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(describe_wait_status(*status), "exit code 0");
  std::vector<std::string> after = socket.receive_until("STOPPING=1", 5s);
  EXPECT_TRUE(any_contains(after, "STOPPING=1")) << "received after SIGTERM: " << joined(after);
  EXPECT_TRUE(any_contains(after, "STATUS=draining")) << joined(after);
  EXPECT_FALSE(any_contains(after, "READY=1")) << joined(after);
}

}  // namespace
}  // namespace hutch::test
