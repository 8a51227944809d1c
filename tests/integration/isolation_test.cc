// What a job sees from inside its sandbox, reported by tests/programs/probe: its own uid without any
// capability, no_new_privs and seccomp, its own PID namespace and hostname, and a network namespace with no
// way to the Redis that feeds the queue.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "queue/redis_url.h"
#include "tests/support/hutch_test.h"

namespace hutch::test {
namespace {

class IsolationTest : public HutchTest {
 protected:
  nlohmann::json probe() {
    auto address = parse_redis_url(redis_server().url());
    EXPECT_TRUE(address) << redis_server().url();
    int port = address ? address->port : 0;
    Fields record = run_job({{"function", "probe"}, {"input", "{\"connect_port\":" + std::to_string(port) + "}"}});
    EXPECT_EQ(record["status"], "succeeded") << record["error"];
    nlohmann::json report = nlohmann::json::parse(record["output"], nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(report.is_object()) << record["output"];
    return report.is_object() ? report : nlohmann::json::object();
  }
};

TEST_F(IsolationTest, RunsAsAnUnprivilegedUidWithoutAnyCapability) {
  HUTCH_REQUIRE_ROOT();
  nlohmann::json report = probe();
  EXPECT_GE(report.value("uid", 0), 60000) << report.dump();
  EXPECT_EQ(report.value("gid", 0), report.value("uid", 1)) << report.dump();
  EXPECT_EQ(report["groups"], nlohmann::json::array()) << "no supplementary groups";
  for (const char *set : {"CapEff", "CapPrm", "CapBnd", "CapAmb"})
    EXPECT_EQ(report["status"].value(set, "?"), "0000000000000000") << set << " must be empty";
  EXPECT_EQ(report["status"].value("NoNewPrivs", "?"), "1");
  EXPECT_EQ(report["status"].value("Seccomp", "?"), "2") << "2 = a seccomp filter is installed";
}

TEST_F(IsolationTest, SeesOnlyItsOwnProcessesAndItsOwnHostname) {
  HUTCH_REQUIRE_ROOT();
  nlohmann::json report = probe();
  EXPECT_EQ(report.value("hostname", "?"), "hutch");
  EXPECT_EQ(report.value("pid", 0), 2) << "the job's init is pid 1, the function its first child";
  EXPECT_EQ(report.value("visible_processes", -1), 2) << "/proc shows the init and the probe, nothing of the host";
}

TEST_F(IsolationTest, CannotReachTheRedisThatFeedsTheQueue) {
  HUTCH_REQUIRE_ROOT();
  nlohmann::json report = probe();
  ASSERT_TRUE(report.contains("connect")) << report.dump();
  EXPECT_NE(report["connect"], "connected") << "127.0.0.1 inside the sandbox must not be the host's";
}

}  // namespace
}  // namespace hutch::test
