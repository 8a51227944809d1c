// `hutchd --check` and `hutch doctor` on this machine, run as a user would run them. No Redis: both must
// answer without one. The machines this suite runs on (root, cgroup v1 memory/cpu/pids or cgroup v2 in a
// delegated cgroup of its own, seccomp) have real isolation, so both exit 0 and say so, naming the cgroup
// version the host has; afterwards no test cgroup is left behind.
#include <dirent.h>

#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/hutch_test.h"
#include "tests/support/process.h"
#include "tests/support/test_cgroup.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;
using testing::Not;
using namespace std::chrono_literals;

std::string explain(const CommandResult &result) {
  return "exit: " + describe_wait_status(result.wait_status) + (result.timed_out ? " (timed out)" : "") +
         "\nstdout:\n" + result.out + "\nstderr:\n" + result.err;
}

void add_probe_cgroups_in(const std::string &directory, std::vector<std::string> &leftovers) {
  DIR *dir = ::opendir(directory.c_str());
  if (dir == nullptr) return;
  while (dirent *entry = ::readdir(dir)) {
    if (std::string(entry->d_name).starts_with("hutch-probe-")) leftovers.push_back(directory + "/" + entry->d_name);
  }
  ::closedir(dir);
}

// The test cgroups the probe made and did not remove: beneath this process's own cgroups, which its children
// share (each v1 hierarchy is mounted at /sys/fs/cgroup/<controller>), and beneath the test cgroup the command
// ran in (cgroup v2, test_cgroup.h).
std::vector<std::string> leftover_probe_cgroups(const ChildSetup &setup = {}) {
  std::vector<std::string> leftovers;
  for (const std::string &procs : setup.join_cgroup_procs)
    add_probe_cgroups_in(procs.substr(0, procs.rfind('/')), leftovers);
  std::ifstream own("/proc/self/cgroup");
  for (std::string line; std::getline(own, line);) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    std::istringstream names(controllers);
    for (std::string name; std::getline(names, name, ',');) add_probe_cgroups_in("/sys/fs/cgroup/" + name + path, leftovers);
  }
  return leftovers;
}

// The command in a cgroup of its own where scripts/test gives it one (cgroup v2: as hutchd.service would be).
ChildSetup in_own_cgroup(const std::string &name) {
  ChildSetup setup;
  setup.join_cgroup_procs = own_test_cgroup(name);
  return setup;
}

void expect_real_isolation_report(const CommandResult &result, const ChildSetup &setup) {
  std::string version = host_cgroup_version();
  ASSERT_FALSE(version.empty()) << "this suite runs on a host with cgroup v1 or v2 controllers";
  EXPECT_EQ(result.exit_code(), 0) << explain(result);
  EXPECT_THAT(result.out, HasSubstr("ok    cgroup version: " + version + " (")) << explain(result);
  EXPECT_THAT(result.out, HasSubstr("ok    cgroup child: created and removed a test cgroup")) << explain(result);
  EXPECT_THAT(result.out, HasSubstr("ok    seccomp: available (kill_process in actions_avail), libseccomp "))
      << explain(result);
  for (const char *name : {"pid", "mount", "net", "ipc", "uts", "cgroup", "user"})
    EXPECT_THAT(result.out, HasSubstr(std::string("ok    namespace ") + name + ": can be created")) << explain(result);
  EXPECT_THAT(result.out, HasSubstr("ok    identity: running as root")) << explain(result);
  EXPECT_THAT(result.out, HasSubstr("ok    helper hutch-fn: ")) << explain(result);
  EXPECT_THAT(result.out, HasSubstr("ok    helper hutch-spawner: ")) << explain(result);
  EXPECT_THAT(result.out, HasSubstr("\nhutch will enforce: cgroup " + version + " limits (memory, cpu, pids), seccomp, "))
      << explain(result);
  EXPECT_THAT(result.out, Not(HasSubstr("miss  "))) << explain(result);
  EXPECT_EQ(leftover_probe_cgroups(setup), std::vector<std::string>{});
}

TEST(DoctorTest, HutchdCheckReportsRealIsolationWithoutRedis) {
  HUTCH_REQUIRE_ROOT();
  // A Redis URL nothing listens on: --check must not try it.
  ChildSetup setup = in_own_cgroup("doctor-check");
  CommandResult result = run_command({hutchd_path(), "--check", "--redis", "redis://127.0.0.1:1"}, 20s, {}, setup);
  expect_real_isolation_report(result, setup);
  remove_empty_test_cgroup("doctor-check");
  // Its log line, not the word: "already in use" (a uid range another hutchd's job holds) contains it.
  EXPECT_THAT(result.out + result.err, Not(HasSubstr("INFO ready"))) << explain(result);
}

TEST(DoctorTest, HutchDoctorPrintsTheSameReport) {
  HUTCH_REQUIRE_ROOT();
  ChildSetup setup = in_own_cgroup("doctor-cli");
  CommandResult result = run_command({hutch_cli_path(), "doctor", "--concurrency", "3"}, 20s, {}, setup);
  expect_real_isolation_report(result, setup);
  remove_empty_test_cgroup("doctor-cli");
  EXPECT_THAT(result.out, HasSubstr("uid range: 60000..60002")) << explain(result);
}

TEST(DoctorTest, AUidRangeThatClashesWithPasswdIsAWarningNotAFailure) {
  HUTCH_REQUIRE_ROOT();
  // Debian's nobody is uid 65534.
  ChildSetup setup = in_own_cgroup("doctor-uid");
  CommandResult result =
      run_command({hutch_cli_path(), "doctor", "--uid-base", "65534", "--concurrency", "1"}, 20s, {}, setup);
  remove_empty_test_cgroup("doctor-uid");
  EXPECT_EQ(result.exit_code(), 0) << explain(result);
  EXPECT_THAT(result.out, HasSubstr("warn  uid range: 65534..65534: already in use: uid 65534 by /etc/passwd entry"))
      << explain(result);
  EXPECT_THAT(result.out, HasSubstr("--uid-base")) << explain(result);
}

// Run as nobody, the check tries every namespace inside a user namespace and says what a non-root hutchd
// lacks with the sentences hutchd logs at start-up. No cgroup is delegated to nobody here: exit 1.
TEST(DoctorTest, AsNobodyTheCheckSaysWhatANonRootHutchdLacks) {
  HUTCH_REQUIRE_ROOT();
  ChildSetup nobody;
  nobody.identity = {{65534, 65534}};
  CommandResult result = run_command({hutchd_path(), "--check"}, 20s, {}, nobody);
  EXPECT_EQ(result.exit_code(), 1) << explain(result);
  EXPECT_THAT(result.out, HasSubstr("warn  identity: running as uid 65534, not root: every job runs as one uid (65534 "
                                    "outside, 60000 inside its user namespace)"))
      << explain(result);
  EXPECT_THAT(result.out, HasSubstr("; run hutchd as root for per-job uids\n")) << explain(result);
  for (const char *name : {"pid", "mount", "net", "ipc", "uts", "cgroup"})
    EXPECT_THAT(result.out, HasSubstr(std::string("ok    namespace ") + name + ": can be created inside a user namespace"))
        << explain(result);
  EXPECT_THAT(result.out, HasSubstr("ok    namespace user: can be created")) << explain(result);
  EXPECT_THAT(result.out, HasSubstr("miss  cgroup version: none usable: memory/cpu/pids limits fall back to rlimits"))
      << explain(result);
  EXPECT_THAT(result.out, HasSubstr("ok    helper hutch-spawner: ")) << explain(result);
  EXPECT_THAT(result.out, Not(HasSubstr("supplementary groups"))) << explain(result);
  EXPECT_THAT(result.out, HasSubstr("\nhutch will enforce: rlimits only (address space, CPU seconds, processes per "
                                    "uid), seccomp, a user namespace with pid, mount, net, ipc, uts and cgroup "
                                    "namespaces, no capabilities; not enforced: cgroup limits, separate uids (every "
                                    "job is one uid)\n"))
      << explain(result);
  EXPECT_EQ(leftover_probe_cgroups(), std::vector<std::string>{});
}

TEST(DoctorTest, AsAUserWithSupplementaryGroupsTheDoctorSaysTheJobsKeepThem) {
  HUTCH_REQUIRE_ROOT();
  ChildSetup user;
  user.identity = {{65534, 65534}};
  user.groups = {4, 65534};
  CommandResult result = run_command({hutch_cli_path(), "doctor"}, 20s, {}, user);
  EXPECT_THAT(result.out, HasSubstr("warn  supplementary groups: every job keeps hutchd's groups 4 (a user namespace "
                                    "cannot drop them: setgroups is denied there)"))
      << explain(result);
}

TEST(DoctorTest, ABadFlagValueIsAUsageError) {
  CommandResult result = run_command({hutch_cli_path(), "doctor", "--concurrency", "zero"}, 20s);
  EXPECT_EQ(result.exit_code(), 2) << explain(result);
  EXPECT_THAT(result.err, HasSubstr("--concurrency: 'zero'")) << explain(result);
}

// --help is an outcome of hutchd's parser, not an error: the usage on stdout, exit 0, whatever else is given.
TEST(DoctorTest, HutchdHelpPrintsTheUsageAndExitsZero) {
  CommandResult result = run_command({hutchd_path(), "--lease", "nonsense", "--help"}, 20s);
  EXPECT_EQ(result.exit_code(), 0) << explain(result);
  EXPECT_EQ(result.out.rfind("usage: hutchd [--redis URL]", 0), 0u) << explain(result);
  EXPECT_EQ(result.err, "") << explain(result);
}

}  // namespace
}  // namespace hutch::test
