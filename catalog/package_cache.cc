#include "catalog/package_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <tuple>

#include "catalog/package.h"
#include "common/directory_stream.h"
#include "common/open_beneath.h"
#include "common/quote.h"
#include "common/sha256.h"

namespace hutch {
namespace {

constexpr const char kStagingPrefix[] = ".unpacking-";
constexpr const char kEvictingPrefix[] = ".evicting-";
// Packages are at most kMaxPackageDepth deep; what is deeper than this was never unpacked by hutchd.
constexpr int kMaxTreeDepth = 64;

// A directory, as O_DIRECTORY refuses anything else: a FIFO or a device under the name is never opened.
UniqueFd open_directory_beneath(int directory_fd, const std::string &name) {
  return open_beneath(directory_fd, name, O_RDONLY | O_DIRECTORY | O_NONBLOCK);
}

// Whether `name` in `directory_fd` is still the directory `fd` holds (a rename may have moved it away).
bool still_named(int directory_fd, const std::string &name, int fd) {
  struct stat held {}, named {};
  return ::fstat(fd, &held) == 0 && ::fstatat(directory_fd, name.c_str(), &named, AT_SYMLINK_NOFOLLOW) == 0 &&
         held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

Result<std::vector<std::string>> list_directory(int directory_fd) {
  TRY_ASSIGN(DirectoryStream listing, DirectoryStream::open_fd(directory_fd, "a cached directory"));
  std::vector<std::string> names;
  while (const dirent *entry = listing.next()) names.emplace_back(entry->d_name);
  if (listing.read_error() != 0) return fail(errno_error(listing.read_error(), "readdir(a cached directory)"));
  return names;
}

// Removes `name` beneath `parent_fd` and all it holds, each step relative to its parent's fd: a link is
// removed, never followed.
Status remove_tree(int parent_fd, const std::string &name, int depth = 0) {
  if (::unlinkat(parent_fd, name.c_str(), 0) == 0 || errno == ENOENT) return {};
  if (errno != EISDIR) return fail(errno_error("unlink " + quote_value(name)));
  if (depth > kMaxTreeDepth) return fail(make_error(quote_value(name) + " is more than 64 directories deep"));
  UniqueFd directory(::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!directory) return fail(errno_error("open " + quote_value(name)));
  TRY_ASSIGN(std::vector<std::string> children, list_directory(directory.get()));
  for (const std::string &child : children) TRY_STATUS(remove_tree(directory.get(), child, depth + 1));
  if (::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0) return fail(errno_error("rmdir " + quote_value(name)));
  return {};
}

// The bytes of the regular files beneath `directory_fd`; an error for anything an unpack never makes.
Result<uint64_t> tree_bytes(int directory_fd, int depth = 0) {
  if (depth > kMaxTreeDepth) return fail(make_error("it is more than 64 directories deep"));
  TRY_ASSIGN(std::vector<std::string> names, list_directory(directory_fd));
  uint64_t bytes = 0;
  for (const std::string &name : names) {
    struct stat info {};
    if (::fstatat(directory_fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) return fail(errno_error("stat " + quote_value(name)));
    if (S_ISREG(info.st_mode)) {
      bytes += static_cast<uint64_t>(info.st_size);
    } else if (S_ISDIR(info.st_mode)) {
      UniqueFd child(::openat(directory_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!child) return fail(errno_error("open " + quote_value(name)));
      TRY_ASSIGN(uint64_t inner, tree_bytes(child.get(), depth + 1));
      bytes += inner;
    } else {
      return fail(make_error("it holds " + quote_value(name) + ", a link or special file"));
    }
  }
  return bytes;
}

}  // namespace

Result<std::unique_ptr<PackageCache>> PackageCache::open(const std::string &directory, uint64_t bound_bytes) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) return fail(make_error("package cache '" + directory + "': " + error.message()));
  // Readable by the sandbox users (through the read-only mount), writable only by hutchd.
  if (::chmod(directory.c_str(), 0755) != 0) return fail(errno_error("chmod('" + directory + "')"));
  UniqueFd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail(errno_error("open('" + directory + "')"));
  return std::unique_ptr<PackageCache>(new PackageCache(directory, std::move(fd), bound_bytes));
}

std::string PackageCache::unique_name(const std::string &prefix, const std::string &sha256) {
  std::lock_guard<std::mutex> lock(names_);
  return prefix + sha256 + "-" + std::to_string(::getpid()) + "-" + std::to_string(next_name_++);
}

std::optional<PackageLease> PackageCache::lease(const std::string &sha256) {
  if (!is_sha256_hex(sha256)) return std::nullopt;
  UniqueFd fd = open_directory_beneath(directory_fd_.get(), sha256);
  if (!fd) return std::nullopt;
  // Without waiting: an eviction holds it exclusively for as long as it takes to rename it away.
  if (::flock(fd.get(), LOCK_SH | LOCK_NB) != 0) return std::nullopt;
  if (!still_named(directory_fd_.get(), sha256, fd.get())) return std::nullopt;
  const struct timespec used[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
  // A failed touch costs only the package's place in the eviction order.
  (void)::futimens(fd.get(), used);
  return PackageLease(std::move(fd), sha256, directory_ + "/" + sha256);
}

Result<PackageCache::Installed> PackageCache::install(const std::string &sha256, const std::string &archive) {
  if (!is_sha256_hex(sha256)) return fail(make_error(quote_value(sha256) + " is not a SHA-256"));
  if (sha256_hex(archive) != sha256) return fail(make_error("the stored package does not match its checksum " + sha256));
  const std::string staging = unique_name(kStagingPrefix, sha256);
  if (::mkdirat(directory_fd_.get(), staging.c_str(), 0700) != 0) return fail(errno_error("mkdir " + quote_value(staging)));
  UniqueFd staging_fd(::openat(directory_fd_.get(), staging.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  // Held until the end: a start-up sweep of another hutchd leaves a staging directory alone while it is.
  bool locked = staging_fd && ::flock(staging_fd.get(), LOCK_EX | LOCK_NB) == 0;
  Status result = locked ? Status{} : fail(errno_error("open " + quote_value(staging)));
  bool ours = false;  // whether our directory now has the checksum's name
  if (result) {
    UnpackLimits limits;
    if (bound_bytes_ < limits.max_bytes) {
      limits.max_bytes = bound_bytes_;
      limits.bytes_rule = ", the size of this hutchd's package cache (--cache-size); make the package smaller or "
                          "give hutchd a larger --cache-size";
    }
    auto bytes = unpack_package_archive(archive, staging_fd.get(), limits);
    const struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    if (!bytes) {
      result = fail(bytes.error());
    } else if (::fchmod(staging_fd.get(), 0755) != 0 || ::futimens(staging_fd.get(), now) != 0) {
      result = fail(errno_error("chmod " + quote_value(staging)));
    } else {
      std::lock_guard<std::mutex> lock(passes_);
      auto placed = place(staging, sha256);
      if (!placed) result = fail(placed.error());
      ours = placed && *placed;
      if (ours) known_bytes_[sha256] = *bytes;
    }
  }
  // Gone after a plain rename into place; otherwise what is left under the staging name (our unpack, or
  // what was exchanged out of the checksum's name) is removed now.
  if (auto removed = remove_tree(directory_fd_.get(), staging); !removed && result)
    result = fail(removed.error().context("remove the staging directory"));
  if (!result) return fail(result.error());
  // Leased before the trim, so that the trim cannot take away the package it made room for: our own
  // directory's lock turned shared (and checked to be still in place), or another hutchd's package.
  std::optional<PackageLease> held;
  if (!ours) {
    held = lease(sha256);
  } else if (::flock(staging_fd.get(), LOCK_SH) == 0 && still_named(directory_fd_.get(), sha256, staging_fd.get())) {
    held.emplace(std::move(staging_fd), sha256, directory_ + "/" + sha256);
  }
  if (!held) return fail(make_error("the unpacked package " + sha256 + " vanished from the cache at once"));
  return Installed{std::move(*held), trim()};
}

// Renames the staging directory to its checksum: true when ours took the name. Whatever else has the name
// (a link or file someone put there) is exchanged out, to be removed under the staging name; a whole package
// of another hutchd is kept (false) and ours dropped.
Result<bool> PackageCache::place(const std::string &staging, const std::string &sha256) {
  int cache = directory_fd_.get();
  if (::renameat2(cache, staging.c_str(), cache, sha256.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno != EEXIST) return fail(errno_error("rename into " + quote_value(sha256)));
  if (open_directory_beneath(cache, sha256)) return false;
  if (::renameat2(cache, staging.c_str(), cache, sha256.c_str(), RENAME_EXCHANGE) != 0)
    return fail(errno_error("rename into " + quote_value(sha256)));
  return true;
}

PackageCache::Report PackageCache::sweep() { return pass(true); }
PackageCache::Report PackageCache::trim() { return pass(false); }

PackageCache::Report PackageCache::pass(bool sweeping) {
  std::lock_guard<std::mutex> lock(passes_);
  Report report;
  int cache = directory_fd_.get();
  auto names = list_directory(cache);
  if (!names) {
    report.removed.push_back("nothing: the cache could not be listed: " + names.error().message);
    return report;
  }
  auto remove = [&](const std::string &name, const std::string &why) {
    auto removed = remove_tree(cache, name);
    report.removed.push_back(quote_value(name) + " (" + why + ")" +
                             (removed ? "" : ", but removing it failed: " + removed.error().message));
  };
  // Evicts `name` unless a job holds it: renamed away under an exclusive lock, then removed.
  auto evict = [&](const std::string &name) {
    UniqueFd fd = open_directory_beneath(cache, name);
    if (!fd || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0 || !still_named(cache, name, fd.get())) return false;
    const std::string away = unique_name(kEvictingPrefix, name);
    if (::renameat2(cache, name.c_str(), cache, away.c_str(), RENAME_NOREPLACE) != 0) return false;
    known_bytes_.erase(name);
    if (auto removed = remove_tree(cache, away); !removed)
      report.removed.push_back(quote_value(away) + " could not be removed: " + removed.error().message);
    return true;
  };

  struct Package {
    struct timespec used;
    std::string sha256;
    uint64_t bytes;
  };
  std::vector<Package> packages;
  for (const std::string &name : *names) {
    if (name.starts_with(kStagingPrefix) || name.starts_with(kEvictingPrefix)) {
      // Another hutchd's unpack or eviction in progress holds its lock; a crashed one's is free.
      if (!sweeping) continue;
      UniqueFd fd = open_directory_beneath(cache, name);
      if (!fd || ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) remove(name, "left by an unpack or eviction that never ended");
      continue;
    }
    if (!is_sha256_hex(name)) {
      if (sweeping) remove(name, "not a checksum");
      continue;
    }
    struct stat info {};
    if (::fstatat(cache, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone meanwhile
    if (!S_ISDIR(info.st_mode)) {
      if (sweeping) remove(name, "a link or file, not a package");
      continue;
    }
    uint64_t bytes = 0;
    if (auto known = known_bytes_.find(name); known != known_bytes_.end()) {
      bytes = known->second;
    } else {
      UniqueFd fd = open_directory_beneath(cache, name);
      auto measured = fd ? tree_bytes(fd.get()) : Result<uint64_t>(fail(errno_error("open")));
      if (!measured) {
        if (evict(name)) report.removed.push_back(quote_value(name) + " (not a package as unpacked: " + measured.error().message + ")");
        continue;
      }
      bytes = known_bytes_[name] = *measured;
    }
    packages.push_back({info.st_mtim, name, bytes});
  }
  std::sort(packages.begin(), packages.end(), [](const Package &a, const Package &b) {
    return std::tie(a.used.tv_sec, a.used.tv_nsec, a.sha256) < std::tie(b.used.tv_sec, b.used.tv_nsec, b.sha256);
  });
  uint64_t total = 0;
  for (const Package &package : packages) total += package.bytes;
  for (const Package &package : packages) {
    if (total <= bound_bytes_) break;
    if (!evict(package.sha256)) continue;  // in use
    total -= package.bytes;
    report.evicted.emplace_back(package.sha256, package.bytes);
  }
  report.total_bytes = total;
  report.over_bound = total > bound_bytes_;
  return report;
}

}  // namespace hutch
