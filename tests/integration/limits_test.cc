// Limits hold and each way of ending earns its status word and sentence: timeout, memory, seccomp, exit
// codes, signals, bad output, and processes left behind.
#include <nlohmann/json.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/hutch_test.h"
#include "tests/support/record_checks.h"

namespace hutch::test {
namespace {

using testing::AnyOf;

class LimitsTest : public HutchTest {};

// Both jobs run side by side (concurrency 2) so the suite pays ~10 s, not 15.
TEST_F(LimitsTest, DefaultTimeoutKillsAt5SecondsAndALongerTimeoutLetsTheJobFinish) {
  HUTCH_REQUIRE_ROOT();
  std::string killed = redis().xadd_job({{"function", "sleep"}});  // sleeps 10 s by default
  std::string finished = redis().xadd_job({{"function", "sleep"}, {"timeout", "15"}});

  Fields record = redis().wait_for_final(killed, 20s);
  EXPECT_EQ(record["status"], "timeout");
  EXPECT_EQ(record["error"], "the function ran longer than its 5 s timeout; every process of the job was killed");
  EXPECT_EQ(parse_decimal_text(record["timeout"]), 5.0);
  auto duration = parse_decimal_text(record["duration"]);
  ASSERT_TRUE(duration) << describe_fields(record);
  EXPECT_GE(*duration, 5.0);
  EXPECT_LE(*duration, 5.6);
  EXPECT_EQ(record.count("exit_code"), 0u) << "killed, not exited";

  record = redis().wait_for_final(finished, 25s);
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
  EXPECT_EQ(record["output"], R"({"slept":10})");
  EXPECT_EQ(parse_decimal_text(record["timeout"]), 15.0);
  duration = parse_decimal_text(record["duration"]);
  ASSERT_TRUE(duration) << describe_fields(record);
  EXPECT_GE(*duration, 10.0);
  EXPECT_LE(*duration, 10.8);
}

TEST_F(LimitsTest, BalloonPastItsMemoryLimitIsOom) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "balloon"}, {"input", R"({"mb":200})"}, {"memory", "64M"}});
  EXPECT_EQ(record["status"], "oom");
  EXPECT_EQ(record["error"], "the job went over its 64 MiB memory limit and the kernel killed it (out of memory)");
  EXPECT_EQ(record["memory_limit"], std::to_string(64ULL << 20));
  EXPECT_EQ(record.count("exit_code"), 0u) << "the kernel killed it: " << record["exit_code"];
  auto peak = parse_unsigned_text(record["memory_peak"]);
  ASSERT_TRUE(peak) << record["memory_peak"];
  EXPECT_GE(*peak, 48ULL << 20) << "it got close to the limit";
  EXPECT_LE(*peak, (64ULL << 20) + (1ULL << 20)) << "and never far past it";
}

TEST_F(LimitsTest, BalloonUnderItsMemoryLimitSucceeds) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "balloon"}, {"input", R"({"mb":16})"}, {"memory", "64M"}});
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
  EXPECT_EQ(record["output"], R"({"allocated_mb":16})");
  auto peak = parse_unsigned_text(record["memory_peak"]);
  ASSERT_TRUE(peak) << record["memory_peak"];
  EXPECT_GE(*peak, 16ULL << 20);
}

TEST_F(LimitsTest, ForbiddenSyscallIsKilledBySigsys) {
  HUTCH_REQUIRE_ROOT();
  std::string id = redis().xadd_job({{"function", "forbidden_syscall"}, {"input", R"({"call":"ptrace"})"}});
  Fields record = redis().wait_for_final(id, 20s);
  EXPECT_EQ(record["status"], "killed");
  EXPECT_EQ(record["signal"], "SIGSYS");
  // The call is named when the kernel's audit log is readable (supervisor/seccomp_audit.h), which depends on
  // the host; either way the sentence is one of these two.
  EXPECT_THAT(record["error"], AnyOf("the function was killed by SIGSYS: it made the forbidden system call ptrace "
                                     "(seccomp)",
                                     "the function was killed by SIGSYS: it made a system call the sandbox forbids "
                                     "(seccomp)"));
  EXPECT_EQ(record.count("exit_code"), 0u);
  bool called = false, returned = false;
  for (const auto &entry : redis().xrange(RedisClient::logs_key(id))) {
    called |= entry.get("line") == "calling ptrace";
    returned |= entry.get("line").find("returned") != std::string::npos;
  }
  EXPECT_TRUE(called) << "the program ran up to the call";
  EXPECT_FALSE(returned) << "the call never returned";
}

// The control for the test above: an allowed call returns, and the program exits 3 as it says it does.
TEST_F(LimitsTest, AllowedSyscallReturnsAndExitCodeThreeIsFailed) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "forbidden_syscall"}, {"input", R"({"call":"getpid"})"}});
  EXPECT_EQ(record["status"], "failed");
  EXPECT_EQ(record["exit_code"], "3");
  EXPECT_EQ(record.count("signal"), 0u);
  EXPECT_EQ(record["error"], "the function exited with code 3");
}

TEST_F(LimitsTest, ExitCodeThreeIsFailedWithTheCode) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "exit_code"}, {"input", R"({"code":3})"}});
  EXPECT_EQ(record["status"], "failed");
  EXPECT_EQ(record["exit_code"], "3");
  EXPECT_EQ(record.count("signal"), 0u);
  EXPECT_EQ(record["error"], "the function exited with code 3");
}

TEST_F(LimitsTest, SegfaultIsKilledBySigsegv) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "exit_code"}, {"input", R"({"signal":"SEGV"})"}});
  EXPECT_EQ(record["status"], "killed");
  EXPECT_EQ(record["signal"], "SIGSEGV");
  EXPECT_EQ(record.count("exit_code"), 0u) << record["exit_code"];
  EXPECT_EQ(record["error"], "the function was killed by SIGSEGV");
}

TEST_F(LimitsTest, OutputThatIsNotJsonIsFailed) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "exit_code"}, {"input", R"({"output":"{not json"})"}});
  EXPECT_EQ(record["status"], "failed");
  EXPECT_EQ(record["exit_code"], "0") << "it exited 0; the output is what failed";
  EXPECT_EQ(record["error"], "output: what the function wrote to fd 3 is not valid JSON: '{not json'");
  EXPECT_NE(record["output"], "{not json") << "invalid output is not stored as if it were JSON";
}

TEST_F(LimitsTest, OutputOverOneMebibyteIsFailed) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "exit_code"}, {"input", R"({"output_bytes":2097152})"}});
  EXPECT_EQ(record["status"], "failed");
  EXPECT_EQ(record["exit_code"], "0");
  EXPECT_EQ(record["error"], "output: the result written to fd 3 is larger than the 1 MiB (1048576-byte) limit; "
                             "return less, or write large data to files");
  EXPECT_LE(record["output"].size(), 1u << 20) << "the oversized output is not stored";
}

TEST_F(LimitsTest, OutputOfExactlyOneMebibyteSucceeds) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "exit_code"}, {"input", R"({"output_bytes":1048576})"}});
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
  EXPECT_EQ(record["output"].size(), 1u << 20);
}

// The children leave the process group and keep the pipes open, then the function exits at once: the job
// ends with the function, and its children go with it.
TEST_F(LimitsTest, ChildrenLeftBehindAreGoneWhenTheFunctionEnds) {
  HUTCH_REQUIRE_ROOT();
  std::string id = redis().xadd_job({{"function", "orphans"}, {"input", R"({"children":3,"seconds":30})"}});
  Fields record = redis().wait_for_final(id, 20s);
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
  auto duration = parse_decimal_text(record["duration"]);
  ASSERT_TRUE(duration) << describe_fields(record);
  EXPECT_LT(*duration, 2.0) << "the job ended with its function, not with its orphans";
  EXPECT_THAT(orphans_still_running(id, 3), testing::IsEmpty()) << "children of a finished job still run (host pids)";
}

// Two busy threads for 2 s under a quota of half a core get about 1 s of CPU, not 4.
TEST_F(LimitsTest, CpuQuotaHoldsAcrossThreads) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "spinner"}, {"input", R"({"threads":2,"seconds":2})"}, {"cpu", "0.5"}});
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
  EXPECT_EQ(parse_decimal_text(record["cpu_limit"]), 0.5);
  auto cpu_time = parse_decimal_text(record["cpu_time"]);
  ASSERT_TRUE(cpu_time) << describe_fields(record);
  EXPECT_GE(*cpu_time, 0.5) << "it did get its half core";
  EXPECT_LE(*cpu_time, 1.25) << "and no more";
}

// The pids limit (hutchd --pids, 256 by default) stops a fork bomb with EAGAIN; the job still ends on time.
TEST_F(LimitsTest, ForkBombHitsThePidsLimit) {
  HUTCH_REQUIRE_ROOT();
  expect_fork_bomb_stopped_by_pids_limit();
}

}  // namespace
}  // namespace hutch::test
