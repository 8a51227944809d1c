// hutchd's memory and disk against small writes to Redis (issue 10, finding 5): a blob over the size rule,
// a small archive that unpacks to hundreds of MiB, and a package cache that only ever grew. hutchd must
// look at sizes before reading bytes, unpack by streaming to disk, keep its cache within --cache-size (never
// taking away a package a running job uses), and sweep what it finds there at start-up. The cache is keyed
// by verified checksums: a name that is not one, or that is not a plain directory, is never used.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "tests/security/control_plane.h"
#include "tests/security/host_view.h"
#include "tests/support/record_checks.h"

namespace hutch::test {
namespace {

namespace fs = std::filesystem;
using testing::HasSubstr;

constexpr uint64_t kMiB = 1 << 20;

std::string sleeping_script() { return "#!/bin/sh\nexec /bin/sleep 60\n"; }

uint64_t total_of(const std::map<std::string, uint64_t> &packages) {
  uint64_t total = 0;
  for (const auto &[name, bytes] : packages) total += bytes;
  return total;
}

ino_t inode_of(const std::string &path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0 ? info.st_ino : 0;
}

TEST_F(ControlPlaneTest, ABlobOverTheSizeRuleIsRefusedWithoutBeingRead) {
  HUTCH_REQUIRE_ROOT();
  ASSERT_EQ(run_job({{"function", "hello"}})["status"], "succeeded");
  const uint64_t before = peak_memory_bytes(hutchd().pid());
  ASSERT_GT(before, 0u);
  // 200 MiB under a well-formed checksum (not its own: hutchd must not read enough to find out).
  const std::string sha256(64, 'b');
  ASSERT_EQ(redis().command({"SET", "hutch:blob:" + sha256, std::string(200 * kMiB, 'x')}).text, "OK");
  put_definition("big", definition("big", "run.sh", sha256, 1000));
  EXPECT_EQ(expect_rejected("big"), "function 'big': its package: hutch:blob:" + sha256 +
                                        " is 209715200 bytes, more than the 64 MiB a package may have; update the "
                                        "function with its code again");
  const uint64_t after = peak_memory_bytes(hutchd().pid());
  EXPECT_LT(after - before, 16 * kMiB) << "hutchd's peak memory grew from " << before << " to " << after << " bytes";
  redis().command({"DEL", "hutch:blob:" + sha256});
  // A blob that is not a string at all is named as such.
  const std::string listed(64, 'c');
  redis().command({"RPUSH", "hutch:blob:" + listed, "x"});
  put_definition("listed", definition("listed", "run.sh", listed, 1000));
  EXPECT_EQ(expect_rejected("listed"), "function 'listed': its package: hutch:blob:" + listed +
                                           " is a list, not a string; update the function with its code again");
  expect_hutchd_still_serves();
}

TEST_F(ControlPlaneTest, APackageThatUnpacksToHundredsOfMiBStreamsToDisk) {
  HUTCH_REQUIRE_ROOT();
  ASSERT_EQ(run_job({{"function", "hello"}})["status"], "succeeded");
  const uint64_t before = peak_memory_bytes(hutchd().pid());
  const std::string script = "#!/bin/sh\nstat -c %s /function/zeros\n";
  std::string archive = make_archive({{"run.sh", script, 0, true},
                                      {"zeros", "", 300 * kMiB, false}});
  ASSERT_LT(archive.size(), kMiB) << "the point: a small write to Redis";
  const std::string sha256 = put_blob(archive);
  put_definition("bomb", definition("bomb", "run.sh", sha256, archive.size()));
  Fields record = run_job({{"function", "bomb"}}, 90s);
  EXPECT_EQ(field_or_empty(record, "status"), "succeeded") << describe_fields(record);
  EXPECT_EQ(logs_of(record["id"]), "314572800\n");
  const uint64_t after = peak_memory_bytes(hutchd().pid());
  EXPECT_LT(after - before, 32 * kMiB) << "hutchd's peak memory grew from " << before << " to " << after << " bytes";
  EXPECT_EQ(cached_packages(), (std::map<std::string, uint64_t>{{sha256, 300 * kMiB + script.size()}}));
  expect_hutchd_still_serves();
}

// A link under a checksum's name (planted there by hand) is never followed: the package is unpacked and
// used from a real directory, and the link's target is left alone.
TEST_F(ControlPlaneTest, AChecksumNameThatIsALinkIsNeverFollowed) {
  HUTCH_REQUIRE_ROOT();
  const std::string victim = scratch() + "/victim";
  fs::create_directories(victim);
  std::ofstream(victim + "/host-secret") << "the host's secret\n";
  const std::string sha256 = put_function("linked", "run.sh", {{"run.sh", "#!/bin/sh\nls /function\n", 0, true}});
  fs::create_directory_symlink(victim, cache() + "/" + sha256);
  Fields record = run_job({{"function", "linked"}}, 30s);
  EXPECT_EQ(field_or_empty(record, "status"), "succeeded") << describe_fields(record);
  EXPECT_EQ(logs_of(record["id"]), "run.sh\n");
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(cache() + "/" + sha256))) << "a real directory replaced the link";
  EXPECT_TRUE(fs::exists(victim + "/host-secret"));
  expect_hutchd_still_serves();
}

// hutchd trusts what lies under a checksum's name (it verified the blob before renaming the directory
// there), so the cache must be writable by root alone: jobs see it read-only, and the files are root's.
TEST_F(ControlPlaneTest, CachedPackagesAreWritableOnlyByRoot) {
  HUTCH_REQUIRE_ROOT();
  const std::string sha256 = put_function("owned", "run.sh", {{"run.sh", "#!/bin/sh\necho ok\n", 0, true},
                                                              {"lib/data.txt", "data\n", 0, false}});
  ASSERT_EQ(run_job({{"function", "owned"}}, 30s)["status"], "succeeded");
  struct stat info {};
  ASSERT_EQ(::stat(cache().c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, 0u);
  EXPECT_EQ(info.st_mode & 07777, 0755u);
  std::vector<std::string> seen;
  for (const auto &entry : fs::recursive_directory_iterator(cache())) {
    ASSERT_EQ(::lstat(entry.path().c_str(), &info), 0);
    seen.push_back(fs::relative(entry.path(), cache()).string());
    EXPECT_EQ(info.st_uid, 0u) << entry.path();
    EXPECT_EQ(info.st_mode & 022, 0u) << entry.path() << " is writable by others than root";
    EXPECT_TRUE(S_ISDIR(info.st_mode) || S_ISREG(info.st_mode)) << entry.path();
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{sha256, sha256 + "/lib", sha256 + "/lib/data.txt", sha256 + "/run.sh"}));
  expect_hutchd_still_serves();
}

class BoundedCacheTest : public ControlPlaneTest {
 protected:
  std::string cache_size() const override { return "64M"; }
  // A package of `mib` MiB of zeros whose run.sh prints `word` (so each one has its own checksum).
  std::string put_zeros_function(const std::string &name, uint64_t mib, const std::string &script) {
    return put_function(name, "run.sh", {{"run.sh", script, 0, true}, {"zeros", "", mib * kMiB, false}});
  }
};

TEST_F(BoundedCacheTest, TheCacheStaysUnderItsBoundAndKeepsWhatARunningJobUses) {
  HUTCH_REQUIRE_ROOT();
  const std::string held = put_zeros_function("holder", 24, sleeping_script());
  std::string holder_id = redis().xadd_job({{"function", "holder"}, {"timeout", "90"}});
  ASSERT_EQ(redis().wait_for_status(holder_id, {"running"}, 30s)["status"], "running");
  const ino_t held_inode = inode_of(cache() + "/" + held);
  ASSERT_NE(held_inode, 0u);

  std::vector<std::string> others;
  for (int i = 1; i <= 3; ++i) {
    const std::string name = "p" + std::to_string(i);
    others.push_back(put_zeros_function(name, 24, "#!/bin/sh\necho " + name + "\n"));
    Fields record = run_job({{"function", name}}, 60s);
    EXPECT_EQ(field_or_empty(record, "status"), "succeeded") << describe_fields(record);
    std::map<std::string, uint64_t> cached = cached_packages();
    EXPECT_LE(total_of(cached), 64 * kMiB) << "after " << name << ": " << testing::PrintToString(cached);
    EXPECT_TRUE(cached.contains(others.back())) << "the package just used stays";
    EXPECT_EQ(inode_of(cache() + "/" + held), held_inode) << "the running job's package was taken away";
  }
  // p1 and then p2 made room for the next one; each removal is logged once done.
  EXPECT_TRUE(hutchd().wait_for_log("package " + others[0].substr(0, 12) + " evicted", 30s)) << hutchd().log_text();
  EXPECT_TRUE(hutchd().wait_for_log("package " + others[1].substr(0, 12) + " evicted", 30s)) << hutchd().log_text();
  EXPECT_EQ(cache_names(), (std::vector<std::string>{std::min(held, others[2]), std::max(held, others[2])}));

  int sleeper = host_pid_of_function("/usr/bin/sleep");
  ASSERT_GT(sleeper, 0) << "the holder's sleep is not running";
  ::kill(sleeper, SIGKILL);
  Fields holder = redis().wait_for_final(holder_id, 30s);
  EXPECT_EQ(field_or_empty(holder, "status"), "killed") << describe_fields(holder);
  EXPECT_LE(total_of(cached_packages()), 64 * kMiB);
  expect_hutchd_still_serves();
}

TEST_F(BoundedCacheTest, APackageLargerThanTheCacheIsRefused) {
  HUTCH_REQUIRE_ROOT();
  put_zeros_function("huge", 100, "#!/bin/sh\necho huge\n");
  EXPECT_EQ(expect_rejected("huge"),
            "function 'huge': its package: unpacks to more than 67108864 bytes, the size of this hutchd's package "
            "cache (--cache-size); make the package smaller or give hutchd a larger --cache-size");
  EXPECT_EQ(cache_names(), std::vector<std::string>{}) << "nothing half-unpacked is left";
  expect_hutchd_still_serves();
}

TEST_F(BoundedCacheTest, StartUpSweepsLeftoversAndTrimsTheCacheToItsBound) {
  HUTCH_REQUIRE_ROOT();
  ASSERT_TRUE(hutchd().stop().has_value());
  const std::string victim = scratch() + "/victim";
  fs::create_directories(victim);
  std::ofstream(victim + "/host-secret") << "the host's secret\n";
  auto hex = [](char c) { return std::string(64, c); };
  auto plant = [&](const std::string &name, uint64_t zero_bytes) {
    fs::create_directories(cache() + "/" + name);
    std::ofstream file(cache() + "/" + name + "/data", std::ios::binary);
    const std::string zeros(kMiB, '\0');
    for (uint64_t left = zero_bytes; left >= kMiB; left -= kMiB) file.write(zeros.data(), kMiB);
  };
  plant(".unpacking-" + hex('1') + "-77", 0);
  plant(".evicting-" + hex('2') + "-78", 0);
  plant("not-a-checksum", 0);
  plant(std::string(64, 'A'), 0);
  fs::create_directory_symlink(victim, cache() + "/" + hex('3'));
  std::ofstream(cache() + "/" + hex('4')) << "a file, not a package\n";
  plant(hex('5'), 0);
  fs::create_symlink("/etc", cache() + "/" + hex('5') + "/link");  // never made by an unpack: damaged
  // Three whole-looking packages of 30 MiB, used in the order d, e, f: only the two most recent fit in 64M.
  int64_t when = 1700000000;
  for (char c : {'d', 'e', 'f'}) {
    plant(hex(c), 30 * kMiB);
    struct timespec times[2] = {{when, 0}, {when, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (cache() + "/" + hex(c)).c_str(), times, 0), 0);
    when += 60;
  }
  ASSERT_TRUE(start_hutchd(hutchd_options()));
  EXPECT_EQ(cache_names(), (std::vector<std::string>{hex('e'), hex('f')})) << hutchd().log_text();
  EXPECT_TRUE(fs::exists(victim + "/host-secret")) << "removing the link did not follow it";
  EXPECT_THAT(hutchd().log_text(), HasSubstr("package " + hex('d').substr(0, 12) + " evicted"));
  expect_hutchd_still_serves();
}

}  // namespace
}  // namespace hutch::test
