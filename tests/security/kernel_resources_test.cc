// Kernel resources a job could hold outside its limits (issue 10, finding 4): the host's pool of classic AIO
// events, loopback TCP buffers, its input files, and locks on files every job and the host share. Each
// attack holds what it got for a few seconds while the test looks from the host; then the checks of every
// attack: hutchd still serves and nothing of the job is left.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/aio_abi.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/unique_fd.h"
#include "gmock/gmock.h"
#include "tests/security/attempt.h"
#include "tests/security/security_test.h"
#include "tests/support/record_checks.h"

using namespace std::chrono_literals;
using testing::HasSubstr;

namespace hutch::test {
namespace {

constexpr uint64_t kMiB = 1ULL << 20;

// The `mem` of the TCP line of /proc/net/sockstat: pages of TCP buffers on the whole host (one count for
// every network namespace), or nullopt.
std::optional<uint64_t> host_tcp_memory_bytes() {
  std::ifstream sockstat("/proc/net/sockstat");
  std::string line;
  while (std::getline(sockstat, line)) {
    if (line.rfind("TCP:", 0) != 0) continue;
    std::istringstream words(line);
    std::string word;
    while (words >> word) {
      uint64_t pages = 0;
      if (word == "mem" && words >> pages) return pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    }
  }
  return std::nullopt;
}

// Classic AIO events come from one pool for the whole machine (fs.aio-max-nr): a job may not take any, or
// it could make io_setup fail on the host. The policy answers io_setup with ENOSYS, what a kernel built
// without AIO says, so a program that probes for libaio falls back to plain I/O.
TEST_F(SecurityTest, AioCannotTakeTheHostsEventPool) {
  HUTCH_REQUIRE_ROOT();
  std::string id = redis().xadd_job({{"function", "aio_hoard"}, {"input", R"({"seconds":3})"}, {"timeout", "10"}});
  std::string holding = wait_for_log_line(redis(), id, "holding ", 10s);
  ASSERT_FALSE(holding.empty()) << "the attack never said what it holds";

  // While the job holds whatever it could take, the host can still set up a context.
  aio_context_t context = 0;
  long result = ::syscall(SYS_io_setup, 1, &context);
  std::string host_outcome = attack::outcome(result);
  if (result == 0) ::syscall(SYS_io_destroy, context);
  EXPECT_EQ(host_outcome, "ok") << "io_setup(1) on the host while the job is " << holding;

  Fields record = redis().wait_for_final(id, 20s);
  expect_denied_without_error(record);
  nlohmann::json output = output_of(record);
  EXPECT_EQ(output.value("first_error", "?"), "ENOSYS") << output.dump();
  EXPECT_EQ(output.value("events", -1), 0) << output.dump();
  expect_hutchd_still_serves();
}

// Loopback TCP buffers are kernel memory. cgroup v1 counts them for a job only when its memory cgroup's
// TCP accounting is on (memory.kmem.tcp.limit_in_bytes, set to the job's memory limit); cgroup v2 counts
// them in memory.max. 200 connections to itself that never read could hold some 800 MiB of the host's
// TCP memory, which hutchd's own Redis connection draws from too.
TEST_F(SecurityTest, LoopbackTcpBuffersAreHeldToTheJobsMemoryLimit) {
  HUTCH_REQUIRE_ROOT();
  auto before = host_tcp_memory_bytes();
  ASSERT_TRUE(before) << "no TCP line in /proc/net/sockstat";
  std::string id = redis().xadd_job(
      {{"function", "tcp_hoard"}, {"input", R"({"pairs":200,"seconds":3})"}, {"memory", "64M"}, {"timeout", "15"}});
  std::string holding = wait_for_log_line(redis(), id, "holding ", 15s);
  ASSERT_FALSE(holding.empty()) << "the attack never said what it holds";
  auto during = host_tcp_memory_bytes();
  ASSERT_TRUE(during);

  // Other work on this machine uses TCP too; 32 MiB of slack covers it and the kernel's per-CPU caches.
  const uint64_t bound = 64 * kMiB + 32 * kMiB;
  uint64_t grown = *during > *before ? *during - *before : 0;
  RecordProperty("host_tcp_memory_growth_bytes", std::to_string(grown));
  EXPECT_LE(grown, bound) << "host TCP memory " << *before << " -> " << *during << " bytes while the job is "
                          << holding;
  Fields record = redis().wait_for_final(id, 30s);
  expect_denied_without_error(record);
  nlohmann::json output = output_of(record);
  EXPECT_EQ(output.value("pairs", 0), 200) << output.dump();
  EXPECT_LE(output.value("bytes", uint64_t{0}), bound) << output.dump();
  EXPECT_GT(output.value("bytes", uint64_t{0}), 0u) << "the sockets did take some bytes: " << output.dump();
  expect_hutchd_still_serves();
}

// Input files live in the job's /work, a tmpfs whose pages count against the memory of whoever writes
// them. Inputs larger than the job's memory limit are refused before any byte is read; smaller ones are
// written by the job's own init, inside its cgroup, so they show in the job's memory_peak, and inputs that
// fill the limit end the job `oom`.
TEST_F(SecurityTest, InputFilesCountAgainstTheJobsMemory) {
  HUTCH_REQUIRE_ROOT();
  const std::string big = "hutch:upload:test-input-60m:" + std::to_string(::getpid());
  const std::string fitting = "hutch:upload:test-input-32m:" + std::to_string(::getpid());
  ASSERT_FALSE(redis().command({"SET", big, std::string(60 * kMiB, 'x')}).is_error());
  ASSERT_FALSE(redis().command({"SET", fitting, std::string(32 * kMiB, 'y')}).is_error());

  Fields refused = run_job({{"function", "hello"}, {"memory", "24M"}, {"files", R"({"big.bin":")" + big + R"("})"}});
  EXPECT_EQ(refused["status"], "rejected") << describe_fields(refused);
  EXPECT_EQ(refused["error"],
            "files: the input files hold 62914560 bytes together, more than the job's memory limit of 24 MiB; input "
            "files count against the job's memory: give it more (memory) or send less")
      << describe_fields(refused);

  Fields record = run_job({{"function", "hello"}, {"memory", "256M"}, {"files", R"({"fits.bin":")" + fitting + R"("})"}});
  EXPECT_EQ(record["status"], "succeeded") << describe_fields(record);
  auto peak = parse_unsigned_text(record["memory_peak"]);
  ASSERT_TRUE(peak) << describe_fields(record);
  EXPECT_GE(*peak, 32 * kMiB) << "the job's memory holds its 32 MiB input file";

  // Exactly the limit passes the check, but leaves nothing for the job's own processes: its limit holds it.
  const std::string full = "hutch:upload:test-input-24m:" + std::to_string(::getpid());
  ASSERT_FALSE(redis().command({"SET", full, std::string(24 * kMiB, 'z')}).is_error());
  Fields filled = run_job({{"function", "hello"}, {"memory", "24M"}, {"files", R"({"full.bin":")" + full + R"("})"}});
  EXPECT_EQ(filled["status"], "oom") << describe_fields(filled);
  EXPECT_EQ(filled["error"], "the job went over its 24 MiB memory limit and the kernel killed it (out of memory)");
  redis().command({"DEL", big, fitting, full});
  expect_hutchd_still_serves();
}

// A lock on a file under the read-only /usr: each slot sees /usr through an overlay of its own, whose
// files are inodes of their own, so a job's lock is neither seen by the host nor by a job on another slot,
// and the host's locks are not seen by jobs. (Jobs of one slot never overlap, and every process of a job,
// with its locks, is gone when it ends.)
TEST_F(SecurityTest, LocksOnFilesUnderUsrAreTheJobsOwn) {
  HUTCH_REQUIRE_ROOT();
  const std::string path = "/usr/local/lib/hutch-test-lock-" + std::to_string(::getpid());
  hutch::UniqueFd host_file(::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(host_file) << "create " << path << ": " << std::strerror(errno);
  ASSERT_EQ(::flock(host_file.get(), LOCK_EX | LOCK_NB), 0) << "the host takes the lock first";

  const std::string input = R"({"path":")" + path + R"(","seconds":5})";
  std::string holder = redis().xadd_job({{"function", "lock_shared_file"}, {"input", input}, {"timeout", "10"}});
  EXPECT_EQ(wait_for_log_line(redis(), holder, "flock ", 10s), "flock " + path + ": ok")
      << "the host's lock is not the job's business";
  ASSERT_EQ(::flock(host_file.get(), LOCK_UN), 0);
  EXPECT_EQ(attack::outcome(::flock(host_file.get(), LOCK_EX | LOCK_NB)), "ok")
      << "the job's lock does not block the host";
  Fields neighbour = run_job({{"function", "lock_shared_file"}, {"input", R"({"path":")" + path + R"(","seconds":0})"}});
  expect_denied_without_error(neighbour);
  EXPECT_EQ(output_of(neighbour).value("flock", "?"), "ok") << "a job on the other slot, while the first holds it";
  EXPECT_EQ(redis().wait_for_status(holder, {"running"}, 1s)["status"], "running")
      << "the first job still held its lock then";

  Fields record = redis().wait_for_final(holder, 20s);
  expect_denied_without_error(record);
  host_file.reset();
  ::unlink(path.c_str());
  expect_hutchd_still_serves();
}

}  // namespace
}  // namespace hutch::test
