// The doctor's formatter: findings in, lines and an exit code out. The findings are built by hand, so every
// machine this test runs on sees the same hosts: a good cgroup v1 host as root, and that host with one thing
// taken away at a time.
#include <gtest/gtest.h>

#include <algorithm>

#include "sandbox/cgroup.h"
#include "supervisor/doctor.h"

namespace hutch {
namespace {

CgroupHierarchy hierarchy(const std::string &controller, const std::string &directory) {
  return CgroupHierarchy{controller, "/", directory, {}};
}

HostFindings good_v1_host_as_root() {
  HostFindings findings;
  findings.identity.effective_uid = 0;
  findings.identity.uid_first = 60000;
  findings.identity.uid_last = 60001;
  findings.cgroups.v1.controllers = {"cpu", "cpuacct", "memory", "pids"};
  findings.cgroups.v1.has_required = true;
  findings.cgroups.v1.hierarchies = {hierarchy("memory", "/sys/fs/cgroup/memory"),
                                     hierarchy("cpu", "/sys/fs/cgroup/cpu"),
                                     hierarchy("pids", "/sys/fs/cgroup/pids")};
  findings.cgroups.v2.problem = "memory, cpu and pids are not in '/sys/fs/cgroup/unified/cgroup.controllers'";
  findings.cgroups.mechanism = LimitsMechanism::kCgroupV1;
  for (auto [name, flag] : {std::pair{"pid", 1}, {"mount", 2}, {"net", 3}, {"ipc", 4}, {"uts", 5}, {"cgroup", 6},
                            {"user", 7}})
    findings.namespaces.probes.push_back({name, flag, {}});
  findings.namespaces.max_user_namespaces = 1000;
  findings.seccomp.actions_avail = {"kill_process", "kill_thread", "errno", "allow"};
  findings.seccomp.libseccomp_version = "2.5.4";
  findings.filesystems.tmpfs = true;
  findings.filesystems.overlay = true;
  findings.helpers = {{"hutch-fn", "/usr/lib/hutch/hutch-fn", {}}, {"hutch-spawner", "/usr/lib/hutch/hutch-spawner", {}}};
  return findings;
}

HostFindings good_v2_host_as_user() {
  HostFindings findings = good_v1_host_as_root();
  findings.identity.effective_uid = 1000;
  findings.cgroups.v1 = {};
  findings.cgroups.v1.problem = "no memory, cpu and pids hierarchy is mounted";
  findings.cgroups.v2 = {};
  findings.cgroups.v2.controllers = {"cpu", "memory", "pids"};
  findings.cgroups.v2.has_required = true;
  findings.cgroups.v2.hierarchies = {{"", "/user.slice/hutchd.service", "/sys/fs/cgroup/user.slice/hutchd.service", {}}};
  findings.cgroups.mechanism = LimitsMechanism::kCgroupV2;
  // Not root: the probes ran inside a user namespace, where they all work.
  findings.namespaces.inside_user_namespace = true;
  findings.identity.effective_gid = 1000;
  findings.identity.supplementary_groups = {1000};
  return findings;
}

// The same user where the kernel allows no user namespace: every namespace probe fails with it.
HostFindings v2_host_as_user_without_user_namespaces() {
  HostFindings findings = good_v2_host_as_user();
  for (NamespaceProbe &probe : findings.namespaces.probes)
    probe.created = fail(errno_error(ENOSPC, "unshare(CLONE_NEWUSER)"));
  findings.namespaces.max_user_namespaces = 0;
  return findings;
}

const DoctorLine *line_for(const DoctorReport &report, const std::string &item) {
  auto found = std::find_if(report.lines.begin(), report.lines.end(),
                            [&](const DoctorLine &line) { return line.item == item; });
  return found == report.lines.end() ? nullptr : &*found;
}

void expect_identity(const DoctorReport &report, DoctorLevel level, const std::string &detail_part) {
  const DoctorLine *identity = line_for(report, "identity");
  ASSERT_NE(identity, nullptr) << format_doctor_report(report);
  EXPECT_EQ(identity->level, level) << identity->detail;
  EXPECT_NE(identity->detail.find(detail_part), std::string::npos) << identity->detail;
}

int count_level(const DoctorReport &report, DoctorLevel level) {
  return static_cast<int>(std::count_if(report.lines.begin(), report.lines.end(),
                                        [&](const DoctorLine &line) { return line.level == level; }));
}

TEST(Doctor, AGoodV1HostAsRootIsAllOkAndExitsZero) {
  DoctorReport report = make_doctor_report(good_v1_host_as_root());
  EXPECT_EQ(report.exit_code, 0) << format_doctor_report(report);
  EXPECT_EQ(count_level(report, DoctorLevel::kWarn) + count_level(report, DoctorLevel::kMiss), 0)
      << format_doctor_report(report);
  std::string text = format_doctor_report(report);
  EXPECT_NE(text.find("ok    cgroup version: v1 ("), std::string::npos) << text;
  EXPECT_NE(text.find("ok    seccomp: available"), std::string::npos) << text;
  EXPECT_NE(text.find("ok    namespace net: can be created"), std::string::npos) << text;
  EXPECT_NE(text.find("ok    uid range: 60000..60001: no running process"), std::string::npos) << text;
  EXPECT_EQ(report.enforced,
            "cgroup v1 limits (memory, cpu, pids), seccomp, pid, mount, net, ipc, uts and cgroup namespaces, one "
            "uid per slot (60000..60001), no capabilities");
  EXPECT_TRUE(text.ends_with("\nhutch will enforce: " + report.enforced + "\n")) << text;
}

TEST(Doctor, LinesHaveTheLevelInAColumnAndTheFixAfterASemicolon) {
  EXPECT_EQ(format_doctor_line({DoctorLevel::kOk, "seccomp", "available", ""}), "ok    seccomp: available");
  EXPECT_EQ(format_doctor_line({DoctorLevel::kWarn, "audit log", "unreadable", "run as root"}),
            "warn  audit log: unreadable; run as root");
  EXPECT_EQ(format_doctor_line({DoctorLevel::kMiss, "namespace net", "EPERM", "run hutchd as root"}),
            "miss  namespace net: EPERM; run hutchd as root");
}

TEST(Doctor, V2WithoutDelegationIsMissingWithTheSystemdFixAndFallsBackToRlimits) {
  HostFindings findings = good_v2_host_as_user();
  findings.cgroups.v2.hierarchies[0].child_created =
      fail(errno_error(EACCES, "mkdir('/sys/fs/cgroup/user.slice/hutchd.service/hutch-probe-1-2')"));
  findings.cgroups.mechanism = LimitsMechanism::kRlimit;
  DoctorReport report = make_doctor_report(findings);
  EXPECT_EQ(report.exit_code, 1);
  const DoctorLine *version = line_for(report, "cgroup version");
  ASSERT_NE(version, nullptr);
  EXPECT_EQ(version->level, DoctorLevel::kMiss);
  EXPECT_NE(version->detail.find("rlimits"), std::string::npos) << version->detail;
  EXPECT_EQ(version->fix, kCgroupV2DelegationFix);
  const DoctorLine *child = line_for(report, "cgroup child");
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->level, DoctorLevel::kMiss);
  EXPECT_NE(child->detail.find("Permission denied"), std::string::npos) << child->detail;
  EXPECT_EQ(child->fix, kCgroupV2DelegationFix);
  EXPECT_TRUE(report.enforced.starts_with("rlimits only")) << report.enforced;
  EXPECT_NE(report.enforced.find("not enforced: cgroup limits"), std::string::npos) << report.enforced;
}

// A root shell on a cgroup v2 host: its session's cgroup has the controllers, mkdir works (root), but the
// shell and its other processes are in it, so hutchd could enable no controllers beneath it.
HostFindings v2_host_as_root_in_a_login_shell() {
  HostFindings findings = good_v2_host_as_user();
  findings.identity.effective_uid = 0;
  findings.namespaces.inside_user_namespace = false;
  findings.cgroups.v2.hierarchies = {{"", "/user.slice/user-0.slice/session-3.scope",
                                      "/sys/fs/cgroup/user.slice/user-0.slice/session-3.scope", {}}};
  findings.cgroups.v2.other_processes = {"812 (sshd)", "815 (bash)"};
  findings.cgroups.mechanism = LimitsMechanism::kRlimit;  // what probe_cgroups decides: delegated() is false
  return findings;
}

TEST(Doctor, V2InASharedCgroupIsMissingAndSaysToStartHutchdInADelegatedCgroupOfItsOwn) {
  HostFindings findings = v2_host_as_root_in_a_login_shell();
  EXPECT_FALSE(findings.cgroups.v2.delegated());
  DoctorReport report = make_doctor_report(findings);
  EXPECT_EQ(report.exit_code, 1);
  const DoctorLine *version = line_for(report, "cgroup version");
  ASSERT_NE(version, nullptr);
  EXPECT_EQ(version->level, DoctorLevel::kMiss);
  EXPECT_NE(version->detail.find("v2 has memory, cpu and pids, but hutchd's cgroup is shared with other processes "
                                 "(see cgroup shared)"),
            std::string::npos)
      << version->detail;
  EXPECT_EQ(version->fix, kCgroupV2DelegationFix);
  const DoctorLine *shared = line_for(report, "cgroup shared");
  ASSERT_NE(shared, nullptr);
  EXPECT_EQ(shared->level, DoctorLevel::kMiss);
  EXPECT_EQ(shared->detail, "hutchd's cgroup '/sys/fs/cgroup/user.slice/user-0.slice/session-3.scope' also holds 2 "
                            "other processes (812 (sshd), 815 (bash)), and cgroup v2 enables no controllers beneath a "
                            "cgroup with processes in it");
  EXPECT_NE(shared->fix.find("systemd-run --scope -p Delegate=yes"), std::string::npos) << shared->fix;
  EXPECT_NE(shared->fix.find("Delegate=yes"), std::string::npos) << shared->fix;
  EXPECT_TRUE(report.enforced.starts_with("rlimits only")) << report.enforced;
}

TEST(Doctor, V2NotWritableByHutchdsUserIsMissingAsDelegation) {
  HostFindings findings = good_v2_host_as_user();
  findings.cgroups.v2.own_cgroup_writable =
      fail(errno_error(EACCES, "access('/sys/fs/cgroup/user.slice/hutchd.service/cgroup.subtree_control', W_OK)"));
  findings.cgroups.mechanism = LimitsMechanism::kRlimit;
  EXPECT_FALSE(findings.cgroups.v2.delegated());
  DoctorReport report = make_doctor_report(findings);
  EXPECT_EQ(report.exit_code, 1);
  const DoctorLine *delegation = line_for(report, "cgroup delegation");
  ASSERT_NE(delegation, nullptr);
  EXPECT_EQ(delegation->level, DoctorLevel::kMiss);
  EXPECT_EQ(delegation->detail, "hutchd's cgroup is not delegated to uid 1000: access('/sys/fs/cgroup/user.slice/"
                                "hutchd.service/cgroup.subtree_control', W_OK): Permission denied");
  EXPECT_NE(line_for(report, "cgroup version")->detail.find("not delegated to it (see cgroup delegation)"),
            std::string::npos);
}

TEST(Doctor, V2InACgroupOfItsOwnSaysNoOtherProcessIsThere) {
  DoctorReport report = make_doctor_report(good_v2_host_as_user());
  const DoctorLine *shared = line_for(report, "cgroup shared");
  ASSERT_NE(shared, nullptr);
  EXPECT_EQ(shared->level, DoctorLevel::kOk);
  EXPECT_EQ(line_for(report, "cgroup delegation"), nullptr);
  EXPECT_TRUE(report.enforced.starts_with("cgroup v2 limits")) << report.enforced;
}

TEST(Doctor, NoCgroupControllersAnywhereSaysWhatEachVersionLacks) {
  HostFindings findings = good_v1_host_as_root();
  findings.cgroups.v1 = {};
  findings.cgroups.v1.problem = "no memory hierarchy is mounted";
  findings.cgroups.v2.problem = "no cgroup2 file system is mounted";
  findings.cgroups.mechanism = LimitsMechanism::kRlimit;
  DoctorReport report = make_doctor_report(findings);
  EXPECT_EQ(report.exit_code, 1);
  const DoctorLine *version = line_for(report, "cgroup version");
  ASSERT_NE(version, nullptr);
  EXPECT_EQ(version->level, DoctorLevel::kMiss);
  EXPECT_NE(version->detail.find("v1: no memory hierarchy is mounted"), std::string::npos) << version->detail;
  EXPECT_FALSE(version->fix.empty());
  EXPECT_EQ(line_for(report, "cgroup child"), nullptr) << "no version to probe";
}

TEST(Doctor, SeccompWithoutKillProcessIsMissingAndFailsTheCheck) {
  HostFindings findings = good_v1_host_as_root();
  findings.seccomp.actions_avail = {"kill_thread", "errno", "allow"};
  DoctorReport report = make_doctor_report(findings);
  EXPECT_EQ(report.exit_code, 1);
  const DoctorLine *seccomp = line_for(report, "seccomp");
  ASSERT_NE(seccomp, nullptr);
  EXPECT_EQ(seccomp->level, DoctorLevel::kMiss);
  EXPECT_NE(seccomp->detail.find("kill_process"), std::string::npos) << seccomp->detail;
  EXPECT_FALSE(seccomp->fix.empty());
  EXPECT_NE(report.enforced.find("not enforced: seccomp"), std::string::npos) << report.enforced;
}

TEST(Doctor, SeccompThatPrctlCannotQueryIsMissing) {
  HostFindings findings = good_v1_host_as_root();
  findings.seccomp.available = fail(errno_error(EINVAL, "prctl(PR_GET_SECCOMP)"));
  DoctorReport report = make_doctor_report(findings);
  EXPECT_EQ(report.exit_code, 1);
  EXPECT_EQ(line_for(report, "seccomp")->level, DoctorLevel::kMiss);
  EXPECT_NE(line_for(report, "seccomp")->fix.find("CONFIG_SECCOMP"), std::string::npos);
}

TEST(Doctor, AUidClashIsAWarningThatNamesTheUsersAndKeepsExitZero) {
  HostFindings findings = good_v1_host_as_root();
  findings.identity.uid_users = {{60000, "process 812 (sshd)"}, {60001, "/etc/passwd entry 'backup'"}};
  DoctorReport report = make_doctor_report(findings);
  EXPECT_EQ(report.exit_code, 0);
  const DoctorLine *range = line_for(report, "uid range");
  ASSERT_NE(range, nullptr);
  EXPECT_EQ(range->level, DoctorLevel::kWarn);
  EXPECT_NE(range->detail.find("uid 60000 by process 812 (sshd)"), std::string::npos) << range->detail;
  EXPECT_NE(range->detail.find("'backup'"), std::string::npos) << range->detail;
  EXPECT_NE(range->fix.find("--uid-base"), std::string::npos) << range->fix;
}

TEST(Doctor, ManyUidUsersAreCutShort) {
  HostFindings findings = good_v1_host_as_root();
  for (int i = 0; i < 9; ++i) findings.identity.uid_users.push_back({60000, "process " + std::to_string(i) + " (x)"});
  const DoctorLine *range = line_for(make_doctor_report(findings), "uid range");
  ASSERT_NE(range, nullptr);
  EXPECT_NE(range->detail.find("and 4 more"), std::string::npos) << range->detail;
  EXPECT_EQ(range->detail.find("process 5 "), std::string::npos) << range->detail;
}

TEST(Doctor, AsRootAMissingSandboxNamespaceFailsTheCheck) {
  HostFindings findings = good_v1_host_as_root();
  findings.namespaces.probes[2].created = fail(errno_error(ENOSPC, "unshare(CLONE_NEWNET)"));
  DoctorReport report = make_doctor_report(findings);
  EXPECT_EQ(report.exit_code, 1);
  const DoctorLine *net = line_for(report, "namespace net");
  ASSERT_NE(net, nullptr);
  EXPECT_EQ(net->level, DoctorLevel::kMiss);
  EXPECT_EQ(net->detail, "unshare(CLONE_NEWNET): No space left on device");
  EXPECT_NE(report.enforced.find("not enforced: net namespaces"), std::string::npos) << report.enforced;
}

TEST(Doctor, AMissingUserNamespaceIsOnlyAWarning) {
  HostFindings findings = good_v1_host_as_root();
  findings.namespaces.probes[6].created = fail(errno_error(ENOSPC, "unshare(CLONE_NEWUSER)"));
  findings.namespaces.max_user_namespaces = 0;
  DoctorReport report = make_doctor_report(findings);
  EXPECT_EQ(report.exit_code, 0);
  EXPECT_EQ(line_for(report, "namespace user")->level, DoctorLevel::kWarn);
  EXPECT_EQ(line_for(report, "user namespaces")->level, DoctorLevel::kWarn);
  EXPECT_NE(line_for(report, "user namespaces")->fix.find("max_user_namespaces"), std::string::npos);
}

TEST(Doctor, NotRootWithDelegatedV2AndUserNamespacesHasRealIsolationButOneUid) {
  DoctorReport report = make_doctor_report(good_v2_host_as_user());
  EXPECT_EQ(report.exit_code, 0) << format_doctor_report(report);
  expect_identity(report, DoctorLevel::kWarn, "every job runs as one uid (1000 outside, 60000 inside its user namespace)");
  EXPECT_EQ(line_for(report, "identity")->fix, "run hutchd as root for per-job uids");
  EXPECT_EQ(line_for(report, "supplementary groups"), nullptr) << "its only group is its own gid";
  EXPECT_EQ(line_for(report, "namespace pid")->level, DoctorLevel::kOk);
  EXPECT_EQ(line_for(report, "namespace pid")->detail, "can be created inside a user namespace");
  EXPECT_EQ(line_for(report, "cgroup version")->detail.rfind("v2 ", 0), 0u);
  EXPECT_EQ(line_for(report, "cgroup own path")->detail, "/user.slice/hutchd.service");
  EXPECT_NE(report.enforced.find("a user namespace with pid, mount, net, ipc, uts and cgroup namespaces, no "
                                 "capabilities; not enforced: separate uids (every job is one uid)"),
            std::string::npos)
      << report.enforced;
}

TEST(Doctor, NotRootWithoutUserNamespacesHasNoNamespacesAndFailsTheCheck) {
  DoctorReport report = make_doctor_report(v2_host_as_user_without_user_namespaces());
  EXPECT_EQ(report.exit_code, 1) << format_doctor_report(report);
  expect_identity(report, DoctorLevel::kMiss, "every job runs as hutchd's own uid 1000");
  const DoctorLine *user = line_for(report, "namespace user");
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->level, DoctorLevel::kMiss);
  EXPECT_EQ(user->detail.rfind("user namespaces unavailable (sysctl user.max_user_namespaces=0): no namespaces at all", 0),
            0u)
      << user->detail;
  EXPECT_NE(user->fix.find("max_user_namespaces"), std::string::npos) << user->fix;
  EXPECT_NE(line_for(report, "namespace net")->fix.find("see namespace user"), std::string::npos);
  EXPECT_NE(report.enforced.find("not enforced: namespaces (not root, and no user namespace), separate uids"),
            std::string::npos)
      << report.enforced;
}

TEST(Doctor, NotRootTheJobsKeepSupplementaryGroupsAndTheDoctorSaysWhich) {
  HostFindings findings = good_v2_host_as_user();
  findings.identity.supplementary_groups = {1000, 27, 44};
  DoctorReport report = make_doctor_report(findings);
  EXPECT_EQ(report.exit_code, 0) << "a warning, not a failure";
  const DoctorLine *groups = line_for(report, "supplementary groups");
  ASSERT_NE(groups, nullptr) << format_doctor_report(report);
  EXPECT_EQ(groups->level, DoctorLevel::kWarn);
  EXPECT_NE(groups->detail.find("groups 27, 44 "), std::string::npos) << groups->detail;
  EXPECT_EQ(groups->fix, "run hutchd as a user without supplementary groups");
}

TEST(Doctor, AMissingHelperIsMissingWithTheFlagThatNamesIt) {
  HostFindings findings = good_v1_host_as_root();
  findings.helpers[0].executable = fail(errno_error(ENOENT, "'/usr/lib/hutch/hutch-fn'"));
  DoctorReport report = make_doctor_report(findings);
  EXPECT_EQ(report.exit_code, 1);
  const DoctorLine *helper = line_for(report, "helper hutch-fn");
  ASSERT_NE(helper, nullptr);
  EXPECT_EQ(helper->level, DoctorLevel::kMiss);
  EXPECT_NE(helper->fix.find("--hutch-fn"), std::string::npos) << helper->fix;
}

TEST(Doctor, TheSpawnerIsNeededUnderCgroupV1AndWithoutRoot) {
  HostFindings v1 = good_v1_host_as_root();
  v1.helpers[1].executable = fail(errno_error(ENOENT, "'/usr/lib/hutch/hutch-spawner'"));
  EXPECT_EQ(make_doctor_report(v1).exit_code, 1);
  EXPECT_EQ(line_for(make_doctor_report(v1), "helper hutch-spawner")->level, DoctorLevel::kMiss);

  // Not root, the spawners clone every job inside hutchd's user namespace, whatever the cgroups.
  HostFindings v2_user = good_v2_host_as_user();
  v2_user.helpers[1].executable = fail(errno_error(ENOENT, "'/usr/lib/hutch/hutch-spawner'"));
  EXPECT_EQ(make_doctor_report(v2_user).exit_code, 1);
  EXPECT_EQ(line_for(make_doctor_report(v2_user), "helper hutch-spawner")->level, DoctorLevel::kMiss);

  HostFindings v2_root = v2_user;
  v2_root.identity.effective_uid = 0;
  v2_root.namespaces.inside_user_namespace = false;
  EXPECT_EQ(make_doctor_report(v2_root).exit_code, 0) << format_doctor_report(make_doctor_report(v2_root));
  EXPECT_EQ(line_for(make_doctor_report(v2_root), "helper hutch-spawner")->level, DoctorLevel::kWarn);
}

TEST(Doctor, AnUnreadableAuditLogOrMissingOverlayOnlyWarns) {
  HostFindings findings = good_v1_host_as_root();
  findings.kmsg_readable = fail(errno_error(EPERM, "open('/dev/kmsg')"));
  findings.filesystems.overlay = false;
  DoctorReport report = make_doctor_report(findings);
  EXPECT_EQ(report.exit_code, 0);
  EXPECT_EQ(line_for(report, "audit log")->level, DoctorLevel::kWarn);
  EXPECT_NE(line_for(report, "audit log")->fix.find("CAP_SYSLOG"), std::string::npos);
  EXPECT_EQ(line_for(report, "filesystems")->level, DoctorLevel::kWarn);
  EXPECT_EQ(line_for(report, "filesystems")->fix, "modprobe overlay");
}

TEST(Doctor, MissingTmpfsIsMissing) {
  HostFindings findings = good_v1_host_as_root();
  findings.filesystems.tmpfs = false;
  const DoctorLine *filesystems = line_for(make_doctor_report(findings), "filesystems");
  ASSERT_NE(filesystems, nullptr);
  EXPECT_EQ(filesystems->level, DoctorLevel::kMiss);
  EXPECT_NE(filesystems->fix.find("CONFIG_TMPFS"), std::string::npos);
}

}  // namespace
}  // namespace hutch
