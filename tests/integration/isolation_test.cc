// What a job sees from inside its sandbox, reported by tests/programs/probe: its own uid without any
// capability, no_new_privs and seccomp, its own PID namespace and hostname, and a network namespace with no
// way to the Redis that feeds the queue.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/hutch_test.h"

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
  EXPECT_EQ(record["isolation"], "cgroup-v1 pidns ipcns utsns cgroupns netns rootfs uid nocaps nnp seccomp")
      << "this machine kind has cgroup v1 and the suite runs as root";
}

}  // namespace
}  // namespace hutch::test
