// Attacks on the machine's resources (issue 3: 1, 2, 9, 14): a fork bomb, a memory balloon, filling /tmp,
// opening files without end, and threads spinning past a CPU quota. Each must be held by its limit, end
// with a clear status, leave the host as it was, and leave hutchd serving.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "gmock/gmock.h"
#include "tests/security/host_view.h"
#include "tests/security/security_test.h"
#include "tests/support/record_checks.h"

using namespace std::chrono_literals;
using testing::HasSubstr;

namespace hutch::test {
namespace {

// Two bombs at once: one runs to its own end and reports how the pids limit (256) answered; the other is
// cut by its timeout while its processes fill the limit, so the kill must reach all of them.
TEST_F(SecurityTest, ForkBombIsHeldByThePidsLimitAndLeavesNothing) {
  HUTCH_REQUIRE_ROOT();
  const int host_processes_before = count_host_processes();
  std::string finished =
      redis().xadd_job({{"function", "fork_bomb"}, {"input", R"({"max_forks":3000,"seconds":2})"}, {"timeout", "10"}});
  std::string cut =
      redis().xadd_job({{"function", "fork_bomb"}, {"input", R"({"max_forks":3000,"seconds":10})"}, {"timeout", "2"}});

  Fields record = redis().wait_for_final(finished, 20s);
  expect_denied_without_error(record);
  nlohmann::json output = output_of(record);
  EXPECT_GT(output.value("eagain", 0), 0) << "fork failed with EAGAIN at the limit: " << output.dump();
  // Before the deadline no process of the bomb has left, so those forks all hold a pid at once.
  EXPECT_LT(output.value("forks_before_deadline", 1000), 256) << "no more processes than the pids limit: " << output.dump();
  EXPECT_GE(output.value("forks_before_deadline", 0), 200) << "the bomb did fill its limit: " << output.dump();

  record = redis().wait_for_final(cut, 20s);
  EXPECT_EQ(record["status"], "timeout") << describe_fields(record);
  EXPECT_THAT(record["error"], HasSubstr("every process of the job was killed"));

  // Other engineers' work changes the host's count a little; the bomb's 500 processes would not fit.
  const int tolerance = 32;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  int host_processes_after = count_host_processes();
  while (host_processes_after > host_processes_before + tolerance && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    host_processes_after = count_host_processes();
  }
  EXPECT_LE(host_processes_after, host_processes_before + tolerance) << "before the bombs: " << host_processes_before;
  expect_hutchd_still_serves();
}

TEST_F(SecurityTest, MemoryBalloonIsOom) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "balloon"}, {"input", R"({"mb":1024})"}, {"memory", "64M"}, {"timeout", "10"}});
  EXPECT_EQ(record["status"], "oom") << describe_fields(record);
  EXPECT_EQ(record["error"], "the job went over its 64 MiB memory limit and the kernel killed it (out of memory)");
  auto peak = parse_unsigned_text(record["memory_peak"]);
  ASSERT_TRUE(peak) << describe_fields(record);
  EXPECT_LE(*peak, (64ULL << 20) + (1ULL << 20)) << "the balloon never got far past its limit";
  expect_hutchd_still_serves();
}

// /tmp and the working directory are the job's own tmpfs mounts: /tmp of 64 MiB (--tmp-size), /work of
// 64 MiB of scratch plus the 256 MiB a job may hand back (--job-files-cap). Filling them stops at ENOSPC
// (the job gets 1 GiB of memory so the tmpfs size, not the memory limit, is what stops it) and the host's
// disk does not move. The attack tries 512 MiB in each, so a directory on the host's disk would show.
TEST_F(SecurityTest, FillingTmpStopsAtItsSizeAndLeavesTheHostDiskAlone) {
  HUTCH_REQUIRE_ROOT();
  auto root_before = available_bytes("/"), tmp_before = available_bytes("/tmp");
  ASSERT_TRUE(root_before && tmp_before);
  std::string id = redis().xadd_job(
      {{"function", "fill_tmp"}, {"input", R"({"mb":512})"}, {"timeout", "20"}, {"memory", "1G"}});
  Fields record = redis().wait_for_final(id, 30s);
  expect_denied_without_error(record);
  nlohmann::json output = output_of(record);
  for (auto [directory, size_mb] : {std::pair{"/tmp", 64}, std::pair{"/work", 64 + 256}}) {
    nlohmann::json fill = output.value(directory, nlohmann::json::object());
    EXPECT_EQ(fill.value("error", "?"), "ENOSPC") << directory << ": " << fill.dump();
    EXPECT_LE(fill.value("written_mb", 1024), size_mb) << directory << " holds " << size_mb << " MiB";
    EXPECT_GE(fill.value("written_mb", 0), size_mb - 8) << directory << ": the attack did fill it";
  }

  // Builds and tests of other engineers write too; half a gigabyte per directory would not hide.
  const uint64_t tolerance = 128ULL << 20;
  auto root_after = available_bytes("/"), tmp_after = available_bytes("/tmp");
  ASSERT_TRUE(root_after && tmp_after);
  EXPECT_GE(*root_after + tolerance, *root_before)
      << "free bytes on the host's /: " << *root_before << " -> " << *root_after;
  EXPECT_GE(*tmp_after + tolerance, *tmp_before)
      << "free bytes on the host's /tmp: " << *tmp_before << " -> " << *tmp_after;
  std::string left_on_host = "/tmp/hutch-attack-fill-" + id;
  EXPECT_NE(::access(left_on_host.c_str(), F_OK), 0) << left_on_host << " appeared on the host";
  ::unlink(left_on_host.c_str());
  expect_hutchd_still_serves();
}

// Opening files without end stops at the open-files limit (1024), with EMFILE, not at the host's limit.
TEST_F(SecurityTest, OpenFilesWithoutEndStopAtTheLimit) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "open_files_forever"}, {"timeout", "10"}});
  expect_denied_without_error(record);
  nlohmann::json output = output_of(record);
  EXPECT_EQ(output.value("error", "?"), "EMFILE");
  EXPECT_LE(output.value("opened", 100000), 1024) << "1024 descriptors in all, stdin to fd 3 included";
  expect_hutchd_still_serves();
}

// Four threads spinning for 2 s under a quota of half a core use half a core, measured over the job's life.
TEST_F(SecurityTest, SpinningThreadsGetNoMoreThanTheirCpuQuota) {
  HUTCH_REQUIRE_ROOT();
  Fields record =
      run_job({{"function", "spinner"}, {"input", R"({"threads":4,"seconds":2})"}, {"cpu", "0.5"}, {"timeout", "10"}});
  expect_denied_without_error(record);
  auto cpu_time = parse_decimal_text(record["cpu_time"]), duration = parse_decimal_text(record["duration"]);
  ASSERT_TRUE(cpu_time && duration && *duration > 0) << describe_fields(record);
  double cores = *cpu_time / *duration;
  EXPECT_LE(cores, 0.6) << "cpu_time " << *cpu_time << " s over " << *duration << " s";
  EXPECT_GE(cores, 0.3) << "the threads did run: cpu_time " << *cpu_time << " s over " << *duration << " s";
  expect_hutchd_still_serves();
}

}  // namespace
}  // namespace hutch::test
