// What a job sees from inside its sandbox, reported by tests/programs/probe: its own uid without any
// capability, no_new_privs, locked securebits and seccomp, its own PID, IPC and cgroup namespaces and
// hostname, a minimal /etc, working /dev links, its rlimits, and a network namespace with no way to the
// Redis that feeds the queue.
#include <gtest/gtest.h>
#include <linux/securebits.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/hutch_test.h"
#include "tests/support/test_cgroup.h"

namespace hutch::test {
namespace {

class IsolationTest : public HutchTest {};

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

// child.cc locks all four securebits' locks with only NOROOT and NO_CAP_AMBIENT_RAISE set: uid 0 grants no
// capability, the uid change's capability fix-up and KEEP_CAPS are fixed off, and nothing can undo it.
TEST_F(IsolationTest, SecurebitsAreLocked) {
  HUTCH_REQUIRE_ROOT();
  nlohmann::json report = probe();
  constexpr int kLocked = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
                          SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
  EXPECT_EQ(report.value("securebits", -1), kLocked) << report.dump();
  EXPECT_EQ(report.value("securebits_unlock", "?"), "EPERM") << "a job cannot change them";
}

// The cgroup namespace starts at the job's own cgroup: every hierarchy's path reads "/", where the host sees
// hutchd's slot cgroups.
TEST_F(IsolationTest, CgroupNamespaceShowsTheJobsCgroupAsTheRoot) {
  HUTCH_REQUIRE_ROOT();
  nlohmann::json lines = probe()["cgroup"];
  ASSERT_TRUE(lines.is_array() && !lines.empty()) << lines.dump();
  for (const auto &line : lines) {
    const std::string text = line.get<std::string>();
    EXPECT_EQ(text.substr(text.rfind(':')), ":/") << "inside the job its cgroup is the root: " << text;
  }
}

// System V IPC objects the host holds are not in the job's IPC namespace, and what the job makes there
// never reaches the host.
TEST_F(IsolationTest, IpcNamespaceHidesTheHostsObjectsAndKeepsTheJobsOwn) {
  HUTCH_REQUIRE_ROOT();
  // A key of this test process alone; the job makes key + 1 in its namespace.
  const key_t key = static_cast<key_t>(0x48550000 + (::getpid() & 0xfff) * 2);
  const int segment = ::shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
  const int queue = ::msgget(key, IPC_CREAT | IPC_EXCL | 0600);
  ASSERT_GE(segment, 0) << "shmget on the host: " << ::strerrorname_np(errno);
  ASSERT_GE(queue, 0) << "msgget on the host: " << ::strerrorname_np(errno);
  ASSERT_GE(::shmget(key, 0, 0), 0) << "the control: the host finds its own segment by key";
  nlohmann::json ipc = probe(",\"ipc_key\":" + std::to_string(key))["ipc"];
  int leaked = ::shmget(key + 1, 0, 0);
  ::shmctl(segment, IPC_RMID, nullptr);
  ::msgctl(queue, IPC_RMID, nullptr);
  if (leaked >= 0) ::shmctl(leaked, IPC_RMID, nullptr);
  EXPECT_EQ(ipc.value("shm_host", "?"), "ENOENT") << ipc.dump();
  EXPECT_EQ(ipc.value("msg_host", "?"), "ENOENT") << ipc.dump();
  EXPECT_EQ(ipc.value("shm_own", "?"), "created") << "System V IPC works inside: " << ipc.dump();
  EXPECT_LT(leaked, 0) << "the job's segment appeared on the host";
}

// The minimal /etc of the skeleton (sandbox/mounts.cc): passwd and group name only the sandbox users (one
// per slot: hutch<uid>), resolv.conf is empty, localtime is a real zone file.
TEST_F(IsolationTest, EtcHoldsOnlyTheSandboxUsersAnEmptyResolvConfAndLocaltime) {
  HUTCH_REQUIRE_ROOT();
  nlohmann::json report = probe();
  const nlohmann::json &etc = report["etc"];
  const int uid = report.value("uid", -1);
  const std::vector<int> uids = etc.value("passwd_uids", std::vector<int>{});
  ASSERT_EQ(uids.size(), 2u) << "one user per slot (concurrency 2): " << etc.dump();
  EXPECT_NE(std::find(uids.begin(), uids.end(), uid), uids.end()) << "the job's own uid " << uid << " is named";
  std::vector<std::string> expected_names;
  for (int each : uids) {
    EXPECT_GE(each, 60000) << "only sandbox uids, no root or system users";
    expected_names.push_back("hutch" + std::to_string(each));
  }
  EXPECT_EQ(etc["passwd_names"], expected_names);
  EXPECT_EQ(etc["group_names"], expected_names);
  EXPECT_EQ(etc.value("resolv_conf_bytes", -1), 0);
  EXPECT_EQ(etc.value("localtime", "?"), "TZif") << "/etc/localtime is the host's zone file";
}

// /dev/stdin, /dev/stdout, /dev/stderr and /dev/fd resolve through the job's /proc to its own descriptors:
// the probe reads its input again through /dev/stdin and writes a line through each of the others.
TEST_F(IsolationTest, DevStdioLinksReachTheJobsOwnDescriptors) {
  HUTCH_REQUIRE_ROOT();
  const std::string input = R"({"connect_port":0})";
  Fields record = run_job({{"function", "probe"}, {"input", input}});
  ASSERT_EQ(record["status"], "succeeded") << record["error"];
  nlohmann::json report = nlohmann::json::parse(record["output"]);
  for (const char *link : {"/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/fd/3"})
    EXPECT_EQ(report["dev_links"].value(link, "?"), "same") << link;
  EXPECT_EQ(report.value("stdin_via_dev", "?"), input);
  EXPECT_EQ(report["dev_write"], (nlohmann::json{{"/dev/stdout", "ok"}, {"/dev/stderr", "ok"}}));
  std::vector<std::string> lines;
  for (const auto &entry : redis().xrange(RedisClient::logs_key(record["id"]))) lines.push_back(entry.get("line"));
  for (const char *line : {"through /dev/stdout", "through /dev/stderr"})
    EXPECT_NE(std::find(lines.begin(), lines.end(), line), lines.end()) << line << " is not in the job's log";
}

// Core dumps off and a file size limit of 1 GiB (sandbox/rlimits.cc), both hard limits the job cannot
// raise; and the limit is the kernel's, so a write past it fails (checked with a lowered limit: /tmp holds
// 64 MiB, far less than 1 GiB).
TEST_F(IsolationTest, NoCoreDumpsAndFilesStopAtTheSizeLimit) {
  HUTCH_REQUIRE_ROOT();
  nlohmann::json report = probe(",\"fsize_test_kb\":1024");
  const nlohmann::json &limits = report["rlimits"];
  EXPECT_EQ(limits["fsize"], (nlohmann::json{1ULL << 30, 1ULL << 30})) << limits.dump();
  EXPECT_EQ(limits["core"], (nlohmann::json{0, 0})) << limits.dump();
  EXPECT_EQ(limits["nofile"], (nlohmann::json{1024, 1024})) << limits.dump();
  EXPECT_EQ(report["raise"].value("fsize", "?"), "EPERM");
  EXPECT_EQ(report["raise"].value("core", "?"), "EPERM");
  EXPECT_EQ(report["fsize_test"].value("error", "?"), "EFBIG") << report["fsize_test"].dump();
  EXPECT_EQ(report["fsize_test"].value("written_kb", -1), 1024) << report["fsize_test"].dump();
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

TEST_F(IsolationTest, SeesABuiltFilesystemNotTheHostsRoot) {
  HUTCH_REQUIRE_ROOT();
  nlohmann::json report = probe();
  nlohmann::json exists = report["exists"];
  for (const char *absent : {"/etc/shadow", "/root", "/home", "/sys", "/var", "/run", "/boot", "/dev/mem",
                             "/dev/kmsg", "/dev/vda", "/dev/sda"})
    EXPECT_FALSE(exists.value(absent, true)) << absent << " must not exist inside the sandbox";
  for (const char *present : {"/dev/null", "/dev/urandom", "/usr/bin", "/etc/passwd", "/etc/ld.so.cache", "/tmp", "/work"})
    EXPECT_TRUE(exists.value(present, false)) << present << " must exist inside the sandbox";
  EXPECT_EQ(report.value("cwd", "?"), "/work");
  // /proc/1 is the job's own init, which runs as root: the function may not read its memory or environment.
  EXPECT_EQ(report["read"].value("/proc/1/environ", "ok"), "EACCES");
  EXPECT_NE(report["read"].value("/proc/1/mem", "ok"), "ok");
  EXPECT_EQ(report["read"].value("/etc/passwd", "?"), "ok");
}

TEST_F(IsolationTest, WritesOnlyToItsTmpAndWorkingDirectory) {
  HUTCH_REQUIRE_ROOT();
  nlohmann::json write = probe()["write"];
  for (const char *read_only : {"/", "/usr", "/etc", "/dev"})
    EXPECT_NE(write.value(read_only, "ok"), "ok") << "writing into " << read_only << " must fail";
  EXPECT_EQ(write.value("/tmp", "?"), "ok");
  EXPECT_EQ(write.value("/work", "?"), "ok");
}

TEST_F(IsolationTest, TmpIsASizeLimitedTmpfs) {
  HUTCH_REQUIRE_ROOT();
  nlohmann::json fill = probe(",\"fill_tmp_mb\":200")["fill_tmp"];
  EXPECT_EQ(fill.value("error", "?"), "ENOSPC") << fill.dump();
  EXPECT_LE(fill.value("written_mb", 1000), 64) << "the default /tmp holds 64 MiB";
}

TEST_F(IsolationTest, TwoJobsDoNotShareTmp) {
  HUTCH_REQUIRE_ROOT();
  // A first job leaves files in /tmp and /work; the next job (same slot or not) gets fresh ones.
  probe(",\"leave_tmp_file\":true");
  nlohmann::json second = probe();
  EXPECT_FALSE(second["exists"].value("/tmp/left-by-probe", true)) << "a job's /tmp must die with it";
  EXPECT_FALSE(second["exists"].value("/work/left-by-probe", true)) << "a job's working directory must die with it";
}

TEST_F(IsolationTest, TheRecordListsTheProtectionsInForce) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "hello"}});
  std::string version = host_cgroup_version();
  ASSERT_FALSE(version.empty()) << "this suite runs on a host with cgroup v1 or v2 controllers";
  EXPECT_EQ(record["isolation"], "cgroup-" + version + " pidns ipcns utsns cgroupns netns rootfs uid nocaps nnp seccomp")
      << "the suite runs as root, on cgroup " << version << " (read from /sys/fs/cgroup)";
}

}  // namespace
}  // namespace hutch::test
