// A function's code as one archive: what `hutch function create --package` stores in Redis and what every
// supervisor unpacks into its cache. libarchive reads whatever the user gives (a directory, a .zip, a
// .tar.gz, a single file) and writes one canonical form, a gzip'd POSIX tar with sorted entries, zero
// times and owners, and modes reduced to 0755/0644, so the same code always has the same SHA-256.
//
// Only regular files and directories are packaged. Extraction refuses absolute paths, "..", links and
// device nodes whatever the archive says, and bounds bytes, entries and depth, because the archive comes
// from Redis, which whoever may write `hutch:blob:*` can fill with anything.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "queue/function_definition.h"  // kMaxPackageBytes: the archive as stored, a rule of the protocol

namespace hutch {

inline constexpr uint64_t kMaxUnpackedPackageBytes = 512ULL << 20;  // all files unpacked
inline constexpr size_t kMaxPackageEntries = 10000;
inline constexpr size_t kMaxPackageDepth = 32;                      // directories above a file, at most

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
// Parses and checks an archive into memory (the CLI: for the manifest and the entry point).
Result<std::vector<PackageEntry>> read_package_archive(const std::string &archive);

// What an unpack may write, whatever the archive says.
struct UnpackLimits {
  uint64_t max_bytes = kMaxUnpackedPackageBytes;  // file content, all files together
  // Ends the sentence "unpacks to more than <max_bytes> bytes<bytes_rule>".
  std::string bytes_rule = " (512 MiB), the most a package may unpack to";
  size_t max_entries = kMaxPackageEntries;
  size_t max_depth = kMaxPackageDepth;
};

// hutchd's unpack: streams the archive's files to disk beneath `directory_fd` (an empty directory) block by
// block, so memory stays at one block whatever a file's size. Each directory is made and opened relative
// to its parent's fd (O_NOFOLLOW), each file created O_EXCL|O_NOFOLLOW: no path is looked up twice, so
// nothing racing can swap one. Modes become 0755 (directories, executables) or 0644. Stops at the first
// entry past a limit. Returns the bytes of file content written.
Result<uint64_t> unpack_package_archive(const std::string &archive, int directory_fd, const UnpackLimits &limits);

}  // namespace hutch
