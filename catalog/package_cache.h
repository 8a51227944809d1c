// hutchd's package cache: user functions' packages unpacked under --cache-dir, one directory per checksum.
//
// Keyed by verified checksums. A directory gets a checksum's name only by a rename, after the blob's SHA-256
// was verified and the package was unpacked whole into a staging directory (".unpacking-<sha>-<pid>-<n>",
// made and written relative to its fd). A name that is not 64 lowercase hex digits never resolves to a
// path, and every lookup is relative to the cache directory's fd with openat2(RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS), so a link planted under a checksum's name is never followed. What lies under a
// checksum's name is then trusted without hashing it again on each use: it is root's (0755/0644) and jobs
// see it read-only, so only root on the host could change it.
//
// Bounded: at most --cache-size bytes of unpacked files, the least recently used package evicted first.
// A package a running job uses is never evicted: its job holds a shared flock on the package's directory
// (a lease), and eviction takes an exclusive one without waiting, so packages in use are skipped, whichever
// hutchd on the machine runs the job. While more than the bound is in use at once the cache stays over it;
// the next trim after a lease ends brings it back. "Recently used" is the directory's mtime, set at each
// use, so it survives restarts and is shared by every hutchd using the directory. An evicted package is
// renamed ".evicting-<sha>-<pid>-<n>" (no lookup finds it again) and then removed.
//
// Swept at start-up: staging and evicting leftovers nobody holds (a crash), names that are not checksums,
// checksum names that are not plain directories, packages holding anything but directories and regular
// files, and then the least recently used past the bound.
//
// No libuv, no Redis. lease() is for hutchd's loop: a handful of system calls, none that can wait. install()
// and trim() walk and write directories: hutchd runs them on its thread pool (they serialise themselves).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hutch {

// A running job's hold on its package: the directory, opened without following links and locked shared.
class PackageLease {
 public:
  PackageLease(UniqueFd directory_fd, std::string sha256, std::string path)
      : directory_fd_(std::move(directory_fd)), sha256_(std::move(sha256)), path_(std::move(path)) {}
  int directory_fd() const { return directory_fd_.get(); }
  const std::string &sha256() const { return sha256_; }
  const std::string &path() const { return path_; }  // for messages; the fd is what is used

 private:
  UniqueFd directory_fd_;  // closing it ends the lease (flock)
  std::string sha256_;
  std::string path_;
};

class PackageCache {
 public:
  // Opens (making it) `directory`, root's and 0755. Blocking: at start-up. `bound_bytes` is --cache-size.
  static Result<std::unique_ptr<PackageCache>> open(const std::string &directory, uint64_t bound_bytes);

  struct Report {
    std::vector<std::string> removed;                       // sentences: leftovers, damaged entries
    std::vector<std::pair<std::string, uint64_t>> evicted;  // checksum, bytes
    uint64_t total_bytes = 0;                               // after the pass
    bool over_bound = false;                                // still over: the rest is in use
  };
  // Start-up: removes what is not a whole package and trims to the bound. Blocking.
  Report sweep();
  // Evicts the least recently used packages no job uses until the total is within the bound. Any thread.
  Report trim();

  // The cached package `sha256`, leased and marked used now; nullopt when it is not there (or is being
  // evicted at this moment). For the loop: nothing here waits.
  std::optional<PackageLease> lease(const std::string &sha256);

  // Any thread: verifies that `archive` has checksum `sha256`, unpacks it (streaming, within the bound and
  // the package rules) into a staging directory, renames it into place, leases it and trims. An error is a
  // sentence.
  struct Installed {
    PackageLease lease;
    Report report;
  };
  Result<Installed> install(const std::string &sha256, const std::string &archive);

  const std::string &directory() const { return directory_; }
  uint64_t bound_bytes() const { return bound_bytes_; }

 private:
  PackageCache(std::string directory, UniqueFd directory_fd, uint64_t bound_bytes)
      : directory_(std::move(directory)), directory_fd_(std::move(directory_fd)), bound_bytes_(bound_bytes) {}

  Report pass(bool sweeping);
  Result<bool> place(const std::string &staging, const std::string &sha256);
  std::string unique_name(const std::string &prefix, const std::string &sha256);

  std::string directory_;
  UniqueFd directory_fd_;
  uint64_t bound_bytes_;
  std::mutex passes_;                             // one sweep, trim or placement at a time
  std::map<std::string, uint64_t> known_bytes_;   // checksum -> bytes, under passes_ (a package never changes)
  std::mutex names_;
  uint64_t next_name_ = 0;                        // under names_
};

}  // namespace hutch
