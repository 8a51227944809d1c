// The package cache and the streaming unpack (catalog/package_cache.h, catalog/package.h) on a scratch
// directory: no Redis, no fork. Archives are made with libarchive here, hostile ones included.
#include "catalog/package_cache.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "catalog/package.h"
#include "common/sha256.h"
#include "gtest/gtest.h"

namespace hutch {
namespace {

namespace fs = std::filesystem;

struct Member {
  std::string path;
  std::string content;
  uint64_t zero_bytes = 0;
  int type = AE_IFREG;
  std::string link;  // a symlink's target, or a hard link's name when type is AE_IFREG
};

std::string archive_of(const std::vector<Member> &members) {
  std::string output(4 << 20, '\0');
  size_t used = 0;
  std::unique_ptr<archive, decltype(&archive_write_free)> writer(archive_write_new(), archive_write_free);
  archive_write_set_format_pax_restricted(writer.get());
  archive_write_add_filter_gzip(writer.get());
  archive_write_open_memory(writer.get(), output.data(), output.size(), &used);
  const std::string zeros(1 << 20, '\0');
  for (const Member &member : members) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(entry.get(), member.path.c_str());
    archive_entry_set_filetype(entry.get(), static_cast<unsigned>(member.type));
    archive_entry_set_perm(entry.get(), 0755);
    if (member.type == AE_IFLNK) archive_entry_set_symlink(entry.get(), member.link.c_str());
    if (member.type == AE_IFREG && !member.link.empty()) archive_entry_set_hardlink(entry.get(), member.link.c_str());
    uint64_t size = member.type == AE_IFREG && member.link.empty() ? member.content.size() + member.zero_bytes : 0;
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
    archive_write_header(writer.get(), entry.get());
    if (size == 0) continue;
    archive_write_data(writer.get(), member.content.data(), member.content.size());
    for (uint64_t left = member.zero_bytes; left > 0;) {
      size_t chunk = static_cast<size_t>(std::min<uint64_t>(left, zeros.size()));
      archive_write_data(writer.get(), zeros.data(), chunk);
      left -= chunk;
    }
  }
  archive_write_close(writer.get());
  output.resize(used);
  return output;
}

class PackageCacheTest : public testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/hutch-package-cache-test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    scratch_ = pattern;
  }
  void TearDown() override {
    std::error_code error;
    fs::remove_all(scratch_, error);
  }
  std::unique_ptr<PackageCache> open_cache(uint64_t bound) {
    auto cache = PackageCache::open(scratch_ + "/cache", bound);
    EXPECT_TRUE(cache) << cache.error().message;
    return cache ? std::move(*cache) : nullptr;
  }
  std::vector<std::string> names() {
    std::vector<std::string> found;
    for (const auto &entry : fs::directory_iterator(scratch_ + "/cache")) found.push_back(entry.path().filename().string());
    std::sort(found.begin(), found.end());
    return found;
  }
  // Unpacks `archive` into a fresh directory with `limits`; the error sentence, or "" on success.
  std::string unpack_error(const std::string &archive, const UnpackLimits &limits = {}) {
    std::string target = scratch_ + "/unpacked-" + std::to_string(unpacks_++);
    fs::create_directories(target);
    UniqueFd fd(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    auto unpacked = unpack_package_archive(archive, fd.get(), limits);
    return unpacked ? "" : unpacked.error().message;
  }

  std::string scratch_;
  int unpacks_ = 0;
};

TEST_F(PackageCacheTest, AnUnpackStreamsFilesWithFixedModes) {
  std::string target = scratch_ + "/unpacked";
  fs::create_directories(target);
  UniqueFd fd(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::string archive = archive_of({{"a/b/run.sh", "#!/bin/sh\n"}, {"big", "", 3 << 20}, {"d", "", 0, AE_IFDIR}});
  auto bytes = unpack_package_archive(archive, fd.get(), {});
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_EQ(*bytes, (3u << 20) + 10);
  EXPECT_EQ(fs::file_size(target + "/big"), 3u << 20);
  struct stat info {};
  ASSERT_EQ(::stat((target + "/a/b").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0755u);
  ASSERT_EQ(::stat((target + "/a/b/run.sh").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0755u);
  EXPECT_TRUE(fs::is_directory(target + "/d"));
}

TEST_F(PackageCacheTest, AnUnpackRefusesWhatAPackageNeverHolds) {
  EXPECT_EQ(unpack_error(archive_of({{"../escape", "x"}})),
            "package: '../escape' is not a path inside the package (absolute, or with '..')");
  EXPECT_EQ(unpack_error(archive_of({{"/etc/x", "x"}})),
            "package: '/etc/x' is not a path inside the package (absolute, or with '..')");
  EXPECT_EQ(unpack_error(archive_of({{"link", "", 0, AE_IFLNK, "/etc"}})),
            "package: 'link' is a link or special file; a package holds only files and directories");
  EXPECT_EQ(unpack_error(archive_of({{"a", "x"}, {"b", "", 0, AE_IFREG, "a"}})),
            "package: 'b' is a link or special file; a package holds only files and directories");
  EXPECT_EQ(unpack_error(archive_of({{"fifo", "", 0, AE_IFIFO}})),
            "package: 'fifo' is a link or special file; a package holds only files and directories");
  EXPECT_EQ(unpack_error(archive_of({{"x", "1"}, {"x", "2"}})), "unpack 'x': File exists");
  std::string deep;
  for (int i = 0; i < 33; ++i) deep += "d/";
  EXPECT_EQ(unpack_error(archive_of({{deep + "f", "x"}})),
            "package: '" + (deep + "f").substr(0, 64) + "...' is more than 32 directories deep");
  UnpackLimits small;
  small.max_bytes = 1 << 20;
  small.bytes_rule = ", the test's bound";
  EXPECT_EQ(unpack_error(archive_of({{"zeros", "", 2 << 20}}), small), "unpacks to more than 1048576 bytes, the test's bound");
  UnpackLimits few;
  few.max_entries = 2;
  EXPECT_EQ(unpack_error(archive_of({{"a", "1"}, {"b", "2"}, {"c", "3"}}), few), "package: more than 2 entries");
}

TEST_F(PackageCacheTest, OnlyAVerifiedPackageGetsAChecksumsName) {
  auto cache = open_cache(64 << 20);
  ASSERT_TRUE(cache);
  std::string archive = archive_of({{"run.sh", "#!/bin/sh\n"}});
  const std::string sha256 = sha256_hex(archive);
  auto forged = cache->install(sha256, archive + "x");
  ASSERT_FALSE(forged);
  EXPECT_EQ(forged.error().message, "the stored package does not match its checksum " + sha256);
  EXPECT_EQ(names(), std::vector<std::string>{});
  EXPECT_FALSE(cache->lease(sha256));
  auto installed = cache->install(sha256, archive);
  ASSERT_TRUE(installed) << installed.error().message;
  EXPECT_EQ(names(), std::vector<std::string>{sha256});
  EXPECT_TRUE(cache->lease(sha256));
  for (const std::string &bad : {std::string("../cache/") + sha256, std::string(64, 'A'), sha256.substr(1)})
    EXPECT_FALSE(cache->lease(bad)) << bad;
}

TEST_F(PackageCacheTest, ALinkUnderAChecksumsNameIsNeverFollowedAndIsReplaced) {
  auto cache = open_cache(64 << 20);
  ASSERT_TRUE(cache);
  fs::create_directories(scratch_ + "/victim");
  std::string archive = archive_of({{"run.sh", "#!/bin/sh\n"}});
  const std::string sha256 = sha256_hex(archive);
  fs::create_directory_symlink(scratch_ + "/victim", scratch_ + "/cache/" + sha256);
  EXPECT_FALSE(cache->lease(sha256)) << "a link is not a package";
  auto installed = cache->install(sha256, archive);
  ASSERT_TRUE(installed) << installed.error().message;
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(scratch_ + "/cache/" + sha256)));
  EXPECT_TRUE(fs::exists(scratch_ + "/cache/" + sha256 + "/run.sh"));
  EXPECT_TRUE(fs::is_empty(scratch_ + "/victim"));
  EXPECT_EQ(names(), std::vector<std::string>{sha256});
}

TEST_F(PackageCacheTest, TheLeastRecentlyUsedUnleasedPackageGoesFirst) {
  auto cache = open_cache(5 << 20);  // room for two of the three 2 MiB packages
  ASSERT_TRUE(cache);
  std::vector<std::string> shas;
  std::vector<std::optional<PackageLease>> held;
  for (const char *name : {"first", "second", "third"}) {
    std::string archive = archive_of({{name, "", 2 << 20}});
    shas.push_back(sha256_hex(archive));
    auto installed = cache->install(shas.back(), archive);
    ASSERT_TRUE(installed) << installed.error().message;
    if (shas.size() == 1) held.emplace_back(std::move(installed->lease));  // "first" stays in use
    struct timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(1700000000 + shas.size()), 0}};
    ::utimensat(AT_FDCWD, (scratch_ + "/cache/" + shas.back()).c_str(), times, 0);
  }
  // first (in use) and third remain; second, the least recently used one not in use, went.
  std::vector<std::string> expected = {shas[0], shas[2]};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(names(), expected);
  // A fourth while first is still in use: third goes; the total stays within the bound.
  std::string archive = archive_of({{"fourth", "", 2 << 20}});
  auto fourth = cache->install(sha256_hex(archive), archive);
  ASSERT_TRUE(fourth);
  EXPECT_EQ(fourth->report.evicted.size(), 1u);
  EXPECT_EQ(fourth->report.evicted[0].first, shas[2]);
  EXPECT_LE(fourth->report.total_bytes, 5u << 20);
  EXPECT_FALSE(fourth->report.over_bound);
}

TEST_F(PackageCacheTest, PackagesInUseMayHoldTheCacheOverItsBoundUntilReleased) {
  auto cache = open_cache(3 << 20);
  ASSERT_TRUE(cache);
  std::string a = archive_of({{"a", "", 2 << 20}}), b = archive_of({{"b", "", 2 << 20}});
  auto first = cache->install(sha256_hex(a), a);
  ASSERT_TRUE(first);
  auto second = cache->install(sha256_hex(b), b);
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->report.over_bound) << "both are leased: neither may go";
  EXPECT_EQ(names().size(), 2u);
  { PackageLease released = std::move(first->lease); }
  PackageCache::Report trimmed = cache->trim();
  ASSERT_EQ(trimmed.evicted.size(), 1u);
  EXPECT_EQ(trimmed.evicted[0].first, sha256_hex(a));
  EXPECT_FALSE(trimmed.over_bound);
}

TEST_F(PackageCacheTest, APackageLargerThanTheBoundIsRefusedAndLeavesNothing) {
  auto cache = open_cache(1 << 20);
  ASSERT_TRUE(cache);
  std::string archive = archive_of({{"zeros", "", 2 << 20}});
  auto installed = cache->install(sha256_hex(archive), archive);
  ASSERT_FALSE(installed);
  EXPECT_EQ(installed.error().message,
            "unpacks to more than 1048576 bytes, the size of this hutchd's package cache (--cache-size); make the "
            "package smaller or give hutchd a larger --cache-size");
  EXPECT_EQ(names(), std::vector<std::string>{});
}

TEST_F(PackageCacheTest, TheSweepKeepsOnlyWholePackagesWithinTheBound) {
  const std::string cache_dir = scratch_ + "/cache";
  auto plant = [&](const std::string &name) {
    fs::create_directories(cache_dir + "/" + name);
    std::ofstream(cache_dir + "/" + name + "/file") << "x";
  };
  const std::string kept(64, 'e');
  plant(".unpacking-" + std::string(64, '1') + "-1");
  plant(".evicting-" + std::string(64, '2') + "-1");
  plant("not-a-checksum");
  plant(std::string(64, 'A'));
  plant(kept);
  plant(std::string(64, 'c'));
  fs::create_symlink("/etc", cache_dir + "/" + std::string(64, 'c') + "/link");
  fs::create_directory_symlink("/etc", cache_dir + "/" + std::string(64, 'd'));
  // A staging directory another hutchd is writing right now: locked, so left alone.
  plant(".unpacking-" + std::string(64, '3') + "-2");
  UniqueFd busy(::open((cache_dir + "/.unpacking-" + std::string(64, '3') + "-2").c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_EQ(::flock(busy.get(), LOCK_EX), 0);
  auto cache = open_cache(64 << 20);
  ASSERT_TRUE(cache);
  PackageCache::Report report = cache->sweep();
  EXPECT_EQ(names(), (std::vector<std::string>{".unpacking-" + std::string(64, '3') + "-2", kept}));
  EXPECT_EQ(report.removed.size(), 6u) << testing::PrintToString(report.removed);
  EXPECT_TRUE(fs::exists("/etc/passwd")) << "removing links never followed them";
}

}  // namespace
}  // namespace hutch
