// cgroup v2 only (the VM of scripts/test-vm; skipped on a cgroup v1 host, with the reason): hutchd needs a
// cgroup of its own there. Started in a cgroup it shares with another process, as from a login shell, it
// must say so, fall back to rlimits and leave the cgroup as it found it: no `supervisor` leaf, hutchd still
// where it was started. In a cgroup of its own (every other test's hutchd) it moves itself to the leaf.
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/cgroup_mounts.h"
#include "tests/support/hutch_test.h"
#include "tests/support/test_cgroup.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;
using testing::Not;
using namespace std::chrono_literals;

// The v2 line of /proc/<pid>/cgroup: "0::/system.slice/x.scope/shared".
std::string cgroup_of(pid_t pid) {
  std::ifstream lines("/proc/" + std::to_string(pid) + "/cgroup");
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("0::")) return line.substr(3);
  }
  return "";
}

bool directory_exists(const std::string &path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

// hutchd removes a job's cgroup right after it sent the final record: true once it is gone (bounded, 5 s).
bool directory_goes(const std::string &path) {
  for (int attempt = 0; attempt < 250; ++attempt) {
    if (!directory_exists(path)) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

class CgroupV2Test : public HutchTest {
 protected:
  bool start_hutchd_in_set_up() override { return false; }
  void SetUp() override {
    HUTCH_REQUIRE_ROOT();
    if (host_cgroup_version() != "v2")
      GTEST_SKIP() << "needs cgroup v2 (scripts/test-vm runs it): this host has cgroup " << host_cgroup_version();
    if (own_test_cgroup("probe-parent").empty())
      GTEST_SKIP() << "needs HUTCH_TEST_CGROUP, a delegated cgroup for test processes (scripts/test sets it)";
    remove_empty_test_cgroup("probe-parent");
    HutchTest::SetUp();
  }
  void TearDown() override {
    HutchTest::TearDown();
    if (!shared_.empty()) remove_empty_test_cgroup(shared_);
  }
  std::string subtree() const { return "hutch-" + sanitize_cgroup_name(consumer()); }

  std::string shared_;  // the test cgroup hutchd shares with another process
};

TEST_F(CgroupV2Test, ASharedCgroupIsRefusedAndLeftAsItWas) {
  shared_ = "shared-" + std::to_string(::getpid());
  ChildSetup shared;
  shared.join_cgroup_procs = own_test_cgroup(shared_);
  ASSERT_EQ(shared.join_cgroup_procs.size(), 1u);
  std::string directory = shared.join_cgroup_procs[0].substr(0, shared.join_cgroup_procs[0].rfind('/'));
  // Another process in the cgroup, as a login shell would be.
  std::string error;
  pid_t neighbour = spawn_process({"/bin/sleep", "60"}, {}, "/dev/null", /*die_with_parent=*/true, &error, shared);
  ASSERT_GT(neighbour, 0) << error;

  HutchdOptions options = hutchd_options();
  options.setup = shared;
  ASSERT_TRUE(start_hutchd(options));
  EXPECT_TRUE(hutchd().wait_for_log("also holds 1 other process (" + std::to_string(neighbour) + " (sleep))", 5s))
      << hutchd().log_text();
  EXPECT_THAT(hutchd().log_text(), HasSubstr("systemd-run --scope -p Delegate=yes")) << "the fix, not 'mount'";
  EXPECT_THAT(hutchd().log_text(), Not(HasSubstr("mount the memory")));
  // Nothing moved: hutchd is where it was started, and no leaf or subtree was left in the shared cgroup.
  std::string expected = directory.substr(std::string("/sys/fs/cgroup").size());
  EXPECT_EQ(cgroup_of(hutchd().pid()), expected);
  EXPECT_FALSE(directory_exists(directory + "/supervisor"));
  EXPECT_FALSE(directory_exists(directory + "/" + subtree()));

  Fields record = run_job({{"function", "hello"}});
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
  EXPECT_EQ(record["limits"], "rlimit");

  stop_process(neighbour, SIGKILL, 5s);
}

TEST_F(CgroupV2Test, ACgroupOfItsOwnIsUsedWithTheSupervisorLeafBesideTheJobs) {
  ASSERT_TRUE(start_hutchd(hutchd_options()));
  std::string own = cgroup_of(hutchd().pid());
  ASSERT_TRUE(own.ends_with("/supervisor")) << own;
  std::string parent = "/sys/fs/cgroup" + own.substr(0, own.rfind('/'));
  EXPECT_TRUE(directory_exists(parent + "/" + subtree())) << parent;
  Fields record = run_job({{"function", "sleep"}, {"input", R"({"seconds": 0.1})"}});
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
  EXPECT_EQ(record["limits"], "cgroup v2");
  EXPECT_TRUE(directory_goes(parent + "/" + subtree() + "/job-" + record["id"])) << "removed with the job";
}

}  // namespace
}  // namespace hutch::test
