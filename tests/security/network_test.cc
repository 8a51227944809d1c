// Attack 3 of issue 3: reach the network from a job. The job's network namespace holds only a loopback of
// its own, so the Redis on the host's loopback, a port the test listens on there, and the host's own
// address are all out of reach.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>

#include "common/unique_fd.h"
#include "gmock/gmock.h"
#include "tests/security/host_view.h"
#include "tests/security/security_test.h"

namespace hutch::test {
namespace {

// A listening socket of the test on the host's 127.0.0.1: reachable from the host, never from a job.
struct HostListener {
  UniqueFd fd;
  int port = 0;
};

HostListener listen_on_host_loopback() {
  HostListener listener{UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)), 0};
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listener.fd.get() < 0 || ::bind(listener.fd.get(), reinterpret_cast<sockaddr *>(&address), length) != 0 ||
      ::listen(listener.fd.get(), 4) != 0 ||
      ::getsockname(listener.fd.get(), reinterpret_cast<sockaddr *>(&address), &length) != 0)
    return {};
  listener.port = ntohs(address.sin_port);
  return listener;
}

TEST_F(SecurityTest, NetworkIsOutOfReach) {
  HUTCH_REQUIRE_ROOT();
  HostListener listener = listen_on_host_loopback();
  ASSERT_GT(listener.port, 0);
  nlohmann::json targets = {
      {{"name", "redis"}, {"address", "127.0.0.1"}, {"port", redis_port()}},
      {{"name", "redis over ipv6"}, {"address", "::1"}, {"port", redis_port()}},
      {{"name", "host loopback listener"}, {"address", "127.0.0.1"}, {"port", listener.port}},
  };
  std::optional<std::string> host_address = default_route_ipv4();
  if (host_address) {
    targets.push_back({{"name", "host address"}, {"address", *host_address}, {"port", redis_port()}});
    targets.push_back({{"name", "host address, ssh"}, {"address", *host_address}, {"port", 22}});
  }
  Fields record = run_job(
      {{"function", "reach_network"}, {"input", nlohmann::json{{"targets", targets}}.dump()}, {"timeout", "10"}});
  expect_denied_without_error(record);
  nlohmann::json output = output_of(record);
  EXPECT_EQ(output.size(), targets.size()) << output.dump();
  for (const auto &[name, result] : output.items()) {
    EXPECT_NE(result, "connected") << name;
    // The job's own loopback refuses (or has no ::1); the host's address has no route at all, where a job
    // in the host's network would be refused instead.
    if (name.rfind("host address", 0) == 0)
      EXPECT_EQ(result, "ENETUNREACH") << name;
    else
      EXPECT_THAT(result.get<std::string>(), testing::AnyOf("ECONNREFUSED", "ENETUNREACH", "EADDRNOTAVAIL")) << name;
  }
  EXPECT_LT(::accept(listener.fd.get(), nullptr, nullptr), 0) << "a connection reached the test's listener";
  if (!host_address) RecordProperty("host_address", "none: no default route, so the host's address was not tried");
  expect_hutchd_still_serves();
}

}  // namespace
}  // namespace hutch::test
