// The sentences for what a hutchd without root or cgroups leaves out (supervisor/protections.h): hutchd logs
// them at start-up and the doctor prints them, so their content is checked once, here.
#include <gtest/gtest.h>

#include "sandbox/cgroup.h"
#include "supervisor/protections.h"

namespace hutch {
namespace {

TEST(Protections, AStartUpLineIsItemProblemAndFix) {
  EXPECT_EQ(describe_missing({"not root", "every job is one uid", "run hutchd as root"}),
            "not root: every job is one uid — run hutchd as root");
}

TEST(Protections, TheSharedUidNamesBothSidesOfTheMap) {
  MissingProtection shared = shared_uid_in_user_namespace(65534, 60000);
  EXPECT_EQ(shared.item, "not root");
  EXPECT_EQ(shared.problem.rfind("every job runs as one uid (65534 outside, 60000 inside its user namespace); two "
                                 "jobs running at once share that uid",
                                 0),
            0u)
      << shared.problem;
  EXPECT_EQ(shared.fix, "run hutchd as root for per-job uids");
}

TEST(Protections, WithoutNamespacesTheJobCanReachHutchdAndRedis) {
  MissingProtection shared = shared_uid_without_namespaces(1000);
  EXPECT_NE(shared.problem.find("hutchd's own uid 1000"), std::string::npos) << shared.problem;
  EXPECT_NE(shared.problem.find("Redis"), std::string::npos) << shared.problem;
}

TEST(Protections, NoCgroupsNamesWhatEachRlimitMeansAndAFixForWhoRuns) {
  MissingProtection user = no_cgroup_limits("mkdir('/sys/fs/cgroup/cpu/hutch-x'): Permission denied", false);
  EXPECT_EQ(user.item, "no cgroup delegation");
  EXPECT_NE(user.problem.find("memory is address space"), std::string::npos) << user.problem;
  EXPECT_NE(user.problem.find("cpu is total cpu time"), std::string::npos) << user.problem;
  EXPECT_NE(user.problem.find("pids is per-uid"), std::string::npos) << user.problem;
  EXPECT_TRUE(user.problem.ends_with("because mkdir('/sys/fs/cgroup/cpu/hutch-x'): Permission denied")) << user.problem;
  EXPECT_NE(user.fix.find("Delegate=yes"), std::string::npos) << user.fix;
  MissingProtection root = no_cgroup_limits("no memory hierarchy is mounted", true);
  EXPECT_EQ(root.item, "no usable cgroup");
  EXPECT_NE(root.fix.find("mount"), std::string::npos) << root.fix;
  // On a cgroup v2 host nothing is missing from the mounts: hutchd needs a delegated cgroup of its own.
  MissingProtection shared = no_cgroup_limits("cgroup v2: hutchd's cgroup '/sys/fs/cgroup/x' also holds ...", true, true);
  EXPECT_EQ(shared.fix, kCgroupV2DelegationFix);
  EXPECT_EQ(shared.fix.find("mount"), std::string::npos) << shared.fix;
}

TEST(Protections, TheUserNamespaceCauseIsTheSwitchThatIsOff) {
  EXPECT_EQ(user_namespace_cause(0, std::nullopt, "unshare: No space left on device"),
            "sysctl user.max_user_namespaces=0");
  EXPECT_EQ(user_namespace_cause(1000, 0, "unshare: Operation not permitted"),
            "sysctl kernel.unprivileged_userns_clone=0");
  EXPECT_EQ(user_namespace_cause(1000, std::nullopt, "build the user namespace: Operation not permitted"),
            "build the user namespace: Operation not permitted")
      << "no switch is off (a security module, say): the failed call is the cause";
  MissingProtection none = no_user_namespaces("sysctl user.max_user_namespaces=0");
  EXPECT_EQ(none.item, "user namespaces unavailable (sysctl user.max_user_namespaces=0)");
  EXPECT_EQ(none.problem.rfind("no namespaces at all", 0), 0u) << none.problem;
}

TEST(Protections, OnlyGroupsOtherThanItsOwnGidAreKept) {
  EXPECT_FALSE(kept_supplementary_groups({}, 1000).has_value());
  EXPECT_FALSE(kept_supplementary_groups({1000}, 1000).has_value());
  auto kept = kept_supplementary_groups({1000, 4, 27}, 1000);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->item, "supplementary groups");
  EXPECT_EQ(kept->problem.rfind("every job keeps hutchd's groups 4, 27 ", 0), 0u) << kept->problem;
}

}  // namespace
}  // namespace hutch
