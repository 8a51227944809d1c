// The adversarial suite (issue 3, part): each attack runs through a real hutchd; each test asserts on the
// record's status and sentence, then checks that hutchd still serves a normal job.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "tests/support/hutch_test.h"

namespace hutch::test {
namespace {

class SecurityTest : public HutchTest {
 protected:
  HutchdOptions hutchd_options() override {
    HutchdOptions options = HutchTest::hutchd_options();
    options.functions.emplace_back("kill_everyone", KILL_EVERYONE_PATH);
    options.functions.emplace_back("int80_syscall", INT80_SYSCALL_PATH);
    options.functions.emplace_back("open_files_forever", OPEN_FILES_FOREVER_PATH);
    return options;
  }

  void expect_hutchd_still_serves() {
    ASSERT_EQ(::kill(hutchd().pid(), 0), 0) << "hutchd must survive the attack";
    Fields record = run_job({{"function", "hello"}});
    EXPECT_EQ(record["status"], "succeeded") << "a normal job right after the attack: " << record["error"];
  }
};

// kill(-1, SIGKILL) reaches only the job's own processes: another job running at the same time, hutchd and
// its spawners all live on.
TEST_F(SecurityTest, KillMinusOneKillsOnlyTheJobsOwnProcesses) {
  HUTCH_REQUIRE_ROOT();
  std::string bystander = redis().xadd_job({{"function", "sleep"}, {"input", R"({"seconds":1.5})"}});
  ASSERT_FALSE(bystander.empty());
  redis().wait_for_status(bystander, {"running"}, std::chrono::seconds(10));
  Fields attack = run_job({{"function", "kill_everyone"}});
  // The attacker may kill itself (it is in its own namespace) or survive; either way it touched nobody else.
  EXPECT_TRUE(attack["status"] == "succeeded" || attack["status"] == "killed") << attack["status"] << ": " << attack["error"];
  Fields survivor = redis().wait_for_final(bystander, std::chrono::seconds(15));
  EXPECT_EQ(survivor["status"], "succeeded") << "the other job must not be killed: " << survivor["error"];
  expect_hutchd_still_serves();
}

// A system call through the 32-bit ABI is not a way around the filter: the process is killed by SIGSYS.
TEST_F(SecurityTest, Int80SyscallIsKilledNotRun) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "int80_syscall"}});
  EXPECT_EQ(record["status"], "killed") << record["error"];
  EXPECT_EQ(record["signal"], "SIGSYS");
  EXPECT_NE(record["error"].find("SIGSYS"), std::string::npos) << record["error"];
  // When the kernel's audit log named the call (it may rate-limit), the name must be i386's: its call 20 is
  // getpid, where x86_64's 20 would be writev.
  bool call_named = record["error"].find("the forbidden system call") != std::string::npos;
  if (call_named) {
    EXPECT_NE(record["error"].find("getpid through the i386 ABI"), std::string::npos) << record["error"];
  }
  expect_hutchd_still_serves();
}

// Opening files without end stops at the open-files limit (1024), with EMFILE, not at the host's limit.
TEST_F(SecurityTest, OpenFilesWithoutEndStopAtTheLimit) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "open_files_forever"}});
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
  nlohmann::json output = nlohmann::json::parse(record["output"], nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(output.is_object()) << record["output"];
  EXPECT_EQ(output.value("error", "?"), "EMFILE");
  EXPECT_LE(output.value("opened", 100000), 1024) << "1024 descriptors in all, stdin to fd 3 included";
  expect_hutchd_still_serves();
}

}  // namespace
}  // namespace hutch::test
