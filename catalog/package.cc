#include "catalog/package.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "common/file_io.h"
#include "common/quote.h"
#include "common/unique_fd.h"

namespace hutch {
namespace {

namespace fs = std::filesystem;

struct ReadArchiveDeleter {
  void operator()(archive *a) const { archive_read_free(a); }
};
struct WriteArchiveDeleter {
  void operator()(archive *a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry *e) const { archive_entry_free(e); }
};

Error archive_error(archive *a, const std::string &what) {
  const char *text = archive_error_string(a);
  return make_error(what + ": " + (text != nullptr ? text : "unreadable archive"));
}

// "a/b/c.py" with no empty, "." or ".." parts and no leading '/'; nullopt when unsafe.
std::optional<std::string> clean_path(std::string path) {
  while (path.starts_with("./")) path.erase(0, 2);
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.empty() || path.front() == '/') return std::nullopt;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return std::nullopt;
    start = end + 1;
  }
  return path;
}

Status check_totals(const std::vector<PackageEntry> &entries) {
  if (entries.size() > kMaxPackageEntries)
    return fail(make_error("the package has " + std::to_string(entries.size()) + " entries; at most " +
                           std::to_string(kMaxPackageEntries)));
  uint64_t total = 0;
  for (const PackageEntry &entry : entries) total += entry.content.size();
  if (total > kMaxUnpackedPackageBytes)
    return fail(make_error("the package unpacks to " + std::to_string(total) + " bytes; at most 512 MiB"));
  return {};
}

// An archive entry as a package may hold it: a cleaned path and whether it is a directory; nullopt for
// the top directory itself ("." or "./"), which is skipped.
struct CheckedEntry {
  std::string path;
  bool directory = false;
};

Result<std::optional<CheckedEntry>> check_entry(archive_entry *entry, const std::string &source, size_t max_depth) {
  std::string raw = archive_entry_pathname(entry) != nullptr ? archive_entry_pathname(entry) : "";
  if (raw == "." || raw == "./") return std::optional<CheckedEntry>{};
  auto path = clean_path(raw);
  if (!path)
    return fail(make_error(source + ": " + quote_value(raw) + " is not a path inside the package (absolute, or with '..')"));
  auto type = archive_entry_filetype(entry);
  // A hard link is a regular file in the header with a link name: as much a link as a symbolic one.
  if ((type != AE_IFDIR && type != AE_IFREG) || archive_entry_hardlink(entry) != nullptr)
    return fail(make_error(source + ": " + quote_value(raw) +
                           " is a link or special file; a package holds only files and directories"));
  if (static_cast<size_t>(std::count(path->begin(), path->end(), '/')) >= max_depth)
    return fail(make_error(source + ": " + quote_value(raw) + " is more than " + std::to_string(max_depth) +
                           " directories deep"));
  return std::optional<CheckedEntry>{CheckedEntry{*path, type == AE_IFDIR}};
}

Result<std::vector<PackageEntry>> read_archive_entries(archive *reader, const std::string &source) {
  std::vector<PackageEntry> entries;
  uint64_t total = 0;
  archive_entry *entry = nullptr;
  for (;;) {
    int status = archive_read_next_header(reader, &entry);
    if (status == ARCHIVE_EOF) break;
    if (status != ARCHIVE_OK && status != ARCHIVE_WARN) return fail(archive_error(reader, source));
    TRY_ASSIGN(std::optional<CheckedEntry> checked, check_entry(entry, source, kMaxPackageDepth));
    if (!checked) continue;
    if (checked->directory) {
      entries.push_back({checked->path, true, false, {}});
      continue;
    }
    la_int64_t size = archive_entry_size(entry);
    total += static_cast<uint64_t>(std::max<la_int64_t>(size, 0));
    if (total > kMaxUnpackedPackageBytes) return fail(make_error(source + ": unpacks to more than 512 MiB"));
    PackageEntry file{checked->path, false, (archive_entry_perm(entry) & 0111) != 0, {}};
    file.content.resize(static_cast<size_t>(std::max<la_int64_t>(size, 0)));
    la_ssize_t got = archive_read_data(reader, file.content.data(), file.content.size());
    if (got < 0 || static_cast<size_t>(got) != file.content.size()) return fail(archive_error(reader, source));
    entries.push_back(std::move(file));
    if (entries.size() > kMaxPackageEntries) break;
  }
  TRY_STATUS(check_totals(entries));
  return entries;
}

Result<std::vector<PackageEntry>> read_directory(const std::string &root) {
  std::vector<PackageEntry> entries;
  std::error_code error;
  for (fs::recursive_directory_iterator it(root, fs::directory_options::none, error), end; it != end && !error;
       it.increment(error)) {
    std::string relative = fs::relative(it->path(), root).generic_string();
    fs::file_status status = it->symlink_status();
    if (fs::is_directory(status)) {
      entries.push_back({relative, true, false, {}});
    } else if (fs::is_regular_file(status)) {
      TRY_ASSIGN(std::string content, read_file(it->path().string(), kMaxUnpackedPackageBytes + 1));
      bool executable = (status.permissions() & fs::perms::owner_exec) != fs::perms::none;
      entries.push_back({relative, false, executable, std::move(content)});
    } else {
      return fail(make_error(std::string("'") + it->path().string() + "' is a link or special file; a package holds only files and directories"));
    }
    if (entries.size() > kMaxPackageEntries) break;
  }
  if (error) return fail(make_error("read '" + root + "': " + error.message()));
  TRY_STATUS(check_totals(entries));
  return entries;
}

using ArchiveReader = std::unique_ptr<archive, ReadArchiveDeleter>;

// A package as stored: a gzip'd tar of at most 64 MiB, read from memory.
Result<ArchiveReader> open_stored_archive(const std::string &archive_bytes) {
  if (archive_bytes.size() > kMaxPackageBytes) return fail(make_error("the package is larger than 64 MiB"));
  ArchiveReader reader(archive_read_new());
  archive_read_support_filter_gzip(reader.get());
  archive_read_support_format_tar(reader.get());
  if (archive_read_open_memory(reader.get(), archive_bytes.data(), archive_bytes.size()) != ARCHIVE_OK)
    return fail(archive_error(reader.get(), "package"));
  return reader;
}

// The directory `relative` beneath `root_fd`, made where missing (mode 0755 whatever the umask), each
// component opened from its parent's fd without following a link.
Result<UniqueFd> make_directory_beneath(int root_fd, const std::string &relative) {
  UniqueFd current(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  if (!current) return fail(errno_error("dup"));
  size_t start = 0;
  while (start < relative.size()) {
    size_t end = relative.find('/', start);
    if (end == std::string::npos) end = relative.size();
    const std::string part = relative.substr(start, end - start);
    bool made = ::mkdirat(current.get(), part.c_str(), 0755) == 0;
    if (!made && errno != EEXIST) return fail(errno_error("unpack " + quote_value(relative)));
    UniqueFd next(::openat(current.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) return fail(errno_error("unpack " + quote_value(relative)));
    if (made && ::fchmod(next.get(), 0755) != 0) return fail(errno_error("chmod " + quote_value(relative)));
    current = std::move(next);
    start = end + 1;
  }
  return current;
}

// The current entry's data, block by block, into `fd`; `total` counts every file's bytes so far.
Status stream_entry_data(archive *reader, int fd, const std::string &path, const UnpackLimits &limits,
                         uint64_t &total) {
  uint64_t written = 0;
  for (;;) {
    const void *block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int status = archive_read_data_block(reader, &block, &size, &offset);
    if (status == ARCHIVE_EOF) return {};
    if (status != ARCHIVE_OK && status != ARCHIVE_WARN) return fail(archive_error(reader, "package: " + quote_value(path)));
    // Blocks of a plain file follow each other; a gap would be a sparse file, which no package holds.
    if (offset < 0 || static_cast<uint64_t>(offset) != written)
      return fail(make_error("package: " + quote_value(path) + " is a sparse file; a package holds only plain files"));
    total += size;
    if (total > limits.max_bytes)
      return fail(make_error("unpacks to more than " + std::to_string(limits.max_bytes) + " bytes" + limits.bytes_rule));
    TRY_STATUS(write_all(fd, block, size));
    written += size;
  }
}

}  // namespace

Result<std::vector<PackageEntry>> read_package_source(const std::string &path, bool as_single_file) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return fail(errno_error("'" + path + "'"));
  if (S_ISDIR(info.st_mode)) {
    if (as_single_file) return fail(make_error("'" + path + "' is a directory; use --package for a directory"));
    return read_directory(path);
  }
  if (!S_ISREG(info.st_mode)) return fail(make_error("'" + path + "' is not a file or directory"));
  if (as_single_file) {
    TRY_ASSIGN(std::string content, read_file(path, kMaxUnpackedPackageBytes + 1));
    if (content.size() > kMaxUnpackedPackageBytes) return fail(make_error("'" + path + "' is larger than 512 MiB"));
    std::string name = fs::path(path).filename().string();
    return std::vector<PackageEntry>{{name, false, true, std::move(content)}};
  }
  std::unique_ptr<archive, ReadArchiveDeleter> reader(archive_read_new());
  archive_read_support_filter_all(reader.get());
  archive_read_support_format_zip(reader.get());
  archive_read_support_format_tar(reader.get());
  if (archive_read_open_filename(reader.get(), path.c_str(), 64 << 10) != ARCHIVE_OK)
    return fail(archive_error(reader.get(), "'" + path + "' is not a zip or tar archive"));
  return read_archive_entries(reader.get(), "'" + path + "'");
}

Result<std::string> write_package_archive(std::vector<PackageEntry> entries) {
  TRY_STATUS(check_totals(entries));
  std::sort(entries.begin(), entries.end(), [](const auto &a, const auto &b) { return a.path < b.path; });
  std::unique_ptr<archive, WriteArchiveDeleter> writer(archive_write_new());
  archive_write_set_format_pax_restricted(writer.get());
  archive_write_add_filter_gzip(writer.get());
  // No name or time in the gzip header: the same files give the same bytes.
  archive_write_set_filter_option(writer.get(), "gzip", "timestamp", nullptr);
  archive_write_set_bytes_in_last_block(writer.get(), 1);
  std::string output(kMaxPackageBytes + (1 << 20), '\0');
  size_t used = 0;
  if (archive_write_open_memory(writer.get(), output.data(), output.size(), &used) != ARCHIVE_OK)
    return fail(archive_error(writer.get(), "package"));
  for (const PackageEntry &entry : entries) {
    std::unique_ptr<archive_entry, EntryDeleter> header(archive_entry_new());
    archive_entry_set_pathname(header.get(), entry.path.c_str());
    archive_entry_set_filetype(header.get(), entry.directory ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(header.get(), entry.directory || entry.executable ? 0755 : 0644);
    archive_entry_set_size(header.get(), static_cast<la_int64_t>(entry.content.size()));
    archive_entry_set_mtime(header.get(), 0, 0);
    if (archive_write_header(writer.get(), header.get()) != ARCHIVE_OK)
      return fail(archive_error(writer.get(), "package: " + entry.path));
    if (!entry.content.empty() &&
        archive_write_data(writer.get(), entry.content.data(), entry.content.size()) !=
            static_cast<la_ssize_t>(entry.content.size()))
      return fail(make_error("the package is larger than 64 MiB compressed, the most hutch stores"));
  }
  if (archive_write_close(writer.get()) != ARCHIVE_OK)
    return fail(make_error("the package is larger than 64 MiB compressed, the most hutch stores"));
  if (used > kMaxPackageBytes)
    return fail(make_error("the package is " + std::to_string(used) + " bytes compressed; at most 64 MiB"));
  output.resize(used);
  return output;
}

Result<std::vector<PackageEntry>> read_package_archive(const std::string &archive_bytes) {
  TRY_ASSIGN(ArchiveReader reader, open_stored_archive(archive_bytes));
  return read_archive_entries(reader.get(), "package");
}

Result<uint64_t> unpack_package_archive(const std::string &archive_bytes, int directory_fd, const UnpackLimits &limits) {
  TRY_ASSIGN(ArchiveReader reader, open_stored_archive(archive_bytes));
  uint64_t total = 0;
  size_t count = 0;
  archive_entry *entry = nullptr;
  for (;;) {
    int status = archive_read_next_header(reader.get(), &entry);
    if (status == ARCHIVE_EOF) break;
    if (status != ARCHIVE_OK && status != ARCHIVE_WARN) return fail(archive_error(reader.get(), "package"));
    TRY_ASSIGN(std::optional<CheckedEntry> checked, check_entry(entry, "package", limits.max_depth));
    if (!checked) continue;
    if (++count > limits.max_entries)
      return fail(make_error("package: more than " + std::to_string(limits.max_entries) + " entries"));
    if (checked->directory) {
      TRY_ASSIGN(UniqueFd made, make_directory_beneath(directory_fd, checked->path));
      continue;
    }
    size_t slash = checked->path.rfind('/');
    UniqueFd parent;
    if (slash != std::string::npos) {
      TRY_ASSIGN(parent, make_directory_beneath(directory_fd, checked->path.substr(0, slash)));
    }
    const std::string leaf = slash == std::string::npos ? checked->path : checked->path.substr(slash + 1);
    mode_t mode = (archive_entry_perm(entry) & 0111) != 0 ? 0755 : 0644;
    UniqueFd file(::openat(parent ? parent.get() : directory_fd, leaf.c_str(),
                           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!file) return fail(errno_error("unpack " + quote_value(checked->path)));
    TRY_STATUS(stream_entry_data(reader.get(), file.get(), checked->path, limits, total));
    if (::fchmod(file.get(), mode) != 0) return fail(errno_error("chmod " + quote_value(checked->path)));
  }
  return total;
}

}  // namespace hutch
