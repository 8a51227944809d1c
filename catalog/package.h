// A function's code as one archive: what `hutch function create --package` stores in Redis and what every
// supervisor unpacks into its cache. libarchive reads whatever the user gives (a directory, a .zip, a
// .tar.gz, a single file) and writes one canonical form, a gzip'd POSIX tar with sorted entries, zero
// times and owners, and modes reduced to 0755/0644, so the same code always has the same SHA-256.
//
// Only regular files and directories are packaged. Extraction refuses absolute paths, "..", links and
// device nodes whatever the archive says, and bounds sizes, because the archive comes from Redis, which
// anyone who can enqueue jobs can write.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace hutch {

inline constexpr uint64_t kMaxPackageBytes = 64ULL << 20;           // the archive as stored
inline constexpr uint64_t kMaxUnpackedPackageBytes = 512ULL << 20;  // all files unpacked
inline constexpr size_t kMaxPackageEntries = 10000;

struct PackageEntry {
  std::string path;  // relative, '/'-separated, no "." or ".." parts
  bool directory = false;
  bool executable = false;
  std::string content;
};

// Reads a directory, a .zip/.tar/.tar.gz/.tgz file, or (with `as_single_file`) any one file, into entries.
Result<std::vector<PackageEntry>> read_package_source(const std::string &path, bool as_single_file);
// The canonical archive of `entries`.
Result<std::string> write_package_archive(std::vector<PackageEntry> entries);
// Parses and checks an archive (for the manifest, the entry point, and before unpacking).
Result<std::vector<PackageEntry>> read_package_archive(const std::string &archive);
// Writes the entries beneath `directory` (which must exist and be empty), regular files only.
Status unpack_package(const std::vector<PackageEntry> &entries, const std::string &directory);

}  // namespace hutch
