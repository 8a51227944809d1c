#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "common/sha256.h"
#include "gmock/gmock.h"
#include "tests/security/control_plane.h"
#include "tests/support/record_checks.h"

namespace hutch::test {
namespace fs = std::filesystem;

std::string make_archive(const std::vector<ArchiveFile> &files) {
  // Zeros compress about 1000:1, so 8 MiB holds the archive of several GiB of them.
  std::string output(8 << 20, '\0');
  size_t used = 0;
  std::unique_ptr<archive, decltype(&archive_write_free)> writer(archive_write_new(), archive_write_free);
  archive_write_set_format_pax_restricted(writer.get());
  archive_write_add_filter_gzip(writer.get());
  EXPECT_EQ(archive_write_open_memory(writer.get(), output.data(), output.size(), &used), ARCHIVE_OK);
  const std::string zeros(1 << 20, '\0');
  for (const ArchiveFile &file : files) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> header(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(header.get(), file.path.c_str());
    archive_entry_set_filetype(header.get(), AE_IFREG);
    archive_entry_set_perm(header.get(), file.executable ? 0755 : 0644);
    archive_entry_set_size(header.get(), static_cast<la_int64_t>(file.content.size() + file.zero_bytes));
    EXPECT_EQ(archive_write_header(writer.get(), header.get()), ARCHIVE_OK) << archive_error_string(writer.get());
    if (!file.content.empty()) archive_write_data(writer.get(), file.content.data(), file.content.size());
    for (uint64_t left = file.zero_bytes; left > 0;) {
      size_t chunk = static_cast<size_t>(std::min<uint64_t>(left, zeros.size()));
      EXPECT_EQ(archive_write_data(writer.get(), zeros.data(), chunk), static_cast<la_ssize_t>(chunk));
      left -= chunk;
    }
  }
  EXPECT_EQ(archive_write_close(writer.get()), ARCHIVE_OK) << archive_error_string(writer.get());
  output.resize(used);
  return output;
}

uint64_t peak_memory_bytes(pid_t pid) {
  std::istringstream status(read_file_text("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmHWM:")) return std::stoull(line.substr(6)) * 1024;  // "VmHWM:   12345 kB"
  }
  return 0;
}

Fifo::Fifo(std::string path) : path_(std::move(path)) { made_ = ::mkfifo(path_.c_str(), 0666) == 0; }

Fifo::~Fifo() {
  if (!made_) return;
  // O_RDWR never blocks on a FIFO, and it counts as a writer: an open(O_RDONLY) waiting on it returns.
  int fd = ::open(path_.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) ::close(fd);
  ::unlink(path_.c_str());
}

void ControlPlaneTest::SetUp() {
  char pattern[] = "/tmp/hutch-control-plane-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  scratch_ = pattern;
  SecurityTest::SetUp();
}

void ControlPlaneTest::TearDown() {
  SecurityTest::TearDown();
  std::error_code error;
  fs::remove_all(scratch_, error);
}

HutchdOptions ControlPlaneTest::hutchd_options() {
  HutchdOptions options = SecurityTest::hutchd_options();
  options.extra_args.insert(options.extra_args.end(), {"--cache-dir", cache()});
  if (!cache_size().empty()) options.extra_args.insert(options.extra_args.end(), {"--cache-size", cache_size()});
  return options;
}

std::string ControlPlaneTest::put_blob(const std::string &archive) {
  std::string sha256 = sha256_hex(archive);
  EXPECT_EQ(redis().command({"SET", "hutch:blob:" + sha256, archive}).text, "OK");
  return sha256;
}

JobFields ControlPlaneTest::definition(const std::string &name, const std::string &entry, const std::string &sha256,
                                       size_t package_bytes) {
  return {{"name", name},
          {"entry", entry},
          {"package_sha256", sha256},
          {"package_bytes", std::to_string(package_bytes)},
          {"description", "written by hand"},
          {"function", name},
          {"created_at", "2026-11-21T23:30:47.123Z"},
          {"updated_at", "2026-11-21T23:30:47.123Z"}};
}

void ControlPlaneTest::put_definition(const std::string &name, const JobFields &fields) {
  std::vector<std::string> hset = {"HSET", "hutch:fn:" + name};
  for (const auto &[field, value] : fields) {
    hset.push_back(field);
    hset.push_back(value);
  }
  redis().command({"DEL", "hutch:fn:" + name});
  Reply stored = redis().command(hset);
  EXPECT_FALSE(stored.is_error()) << stored.describe();
  redis().command({"SADD", "hutch:fns", name});
}

std::string ControlPlaneTest::put_function(const std::string &name, const std::string &entry,
                                           const std::vector<ArchiveFile> &files) {
  std::string archive = make_archive(files);
  std::string sha256 = put_blob(archive);
  put_definition(name, definition(name, entry, sha256, archive.size()));
  return sha256;
}

std::string ControlPlaneTest::expect_rejected(const std::string &function) {
  Fields record = run_job({{"function", function}}, 60s);
  EXPECT_EQ(field_or_empty(record, "status"), "rejected") << describe_fields(record);
  EXPECT_FALSE(record.contains("exit_code") || record.contains("isolation"))
      << "no sandbox may start for a refused function: " << describe_fields(record);
  return field_or_empty(record, "error");
}

std::map<std::string, uint64_t> ControlPlaneTest::cached_packages() {
  std::map<std::string, uint64_t> packages;
  std::error_code error;
  for (const auto &entry : fs::directory_iterator(cache(), error)) {
    std::string name = entry.path().filename().string();
    bool checksum = name.size() == 64 && std::all_of(name.begin(), name.end(), [](char c) {
                      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                    });
    if (!checksum || !entry.is_directory()) continue;
    uint64_t bytes = 0;
    for (const auto &file : fs::recursive_directory_iterator(entry.path(), error)) {
      if (file.is_regular_file(error)) bytes += file.file_size(error);
    }
    packages[name] = bytes;
  }
  return packages;
}

std::vector<std::string> ControlPlaneTest::cache_names() {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto &entry : fs::directory_iterator(cache(), error)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string ControlPlaneTest::logs_of(const std::string &id) {
  std::string text;
  for (const StreamEntry &entry : redis().xrange(RedisClient::logs_key(id))) {
    if (entry.has("line")) text += entry.get("line") + "\n";
  }
  return text;
}

}  // namespace hutch::test
