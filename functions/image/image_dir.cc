#include "functions/image/image_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "common/directory_stream.h"
#include "common/file_io.h"

namespace hutch::image {
namespace {

std::string describe_type(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a pipe";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

}  // namespace

Result<JobDirectory> open_job_directory(const char *variable) {
  const char *path = std::getenv(variable);
  if (path == nullptr || *path == '\0') {
    return fail(make_error(std::string(variable) + " is not set: image functions read their images from the "
                           "directory HUTCH_IN names and write results to the one HUTCH_OUT names (hutchd sets "
                           "both for a job with files)"));
  }
  int fd = ::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(errno_error(std::string(variable) + ": open('" + path + "')"));
  return JobDirectory{.path = path, .fd = UniqueFd(fd)};
}

Result<std::vector<std::string>> list_names(const JobDirectory &directory) {
  TRY_ASSIGN(DirectoryStream listing, DirectoryStream::open_fd(directory.fd.get(), "'" + directory.path + "'"));
  std::vector<std::string> names;
  while (const dirent *entry = listing.next()) names.emplace_back(entry->d_name);
  if (listing.read_error() != 0) return fail(errno_error(listing.read_error(), "readdir('" + directory.path + "')"));
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<unsigned char>> read_input_file(const JobDirectory &directory, const std::string &name,
                                                   size_t max_bytes) {
  // O_NOFOLLOW: a link could point anywhere the function may read; the job's inputs are its files only.
  // O_NONBLOCK: opening a pipe for reading must not wait for a writer.
  UniqueFd fd(::openat(directory.fd.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    if (errno == ELOOP) return fail(make_error("'" + name + "' is a symbolic link, not a file"));
    return fail(errno_error("open('" + directory.path + "/" + name + "')"));
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return fail(errno_error("fstat('" + directory.path + "/" + name + "')"));
  if (!S_ISREG(info.st_mode)) return fail(make_error("'" + name + "' is " + describe_type(info.st_mode) +
                                                     ", not a file; image functions take files only"));
  size_t want = static_cast<size_t>(info.st_size);
  if (max_bytes != 0) want = std::min(want, max_bytes);
  std::vector<unsigned char> bytes(want);
  size_t done = 0;
  while (done < want) {
    ssize_t n = ::pread(fd.get(), bytes.data() + done, want - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno_error("read('" + directory.path + "/" + name + "')"));
    if (n == 0) break;  // shrank since fstat: what is there is what we have
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

Status write_output_file(const JobDirectory &directory, const std::string &name,
                         const std::vector<unsigned char> &bytes) {
  UniqueFd fd(::openat(directory.fd.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) return fail(errno_error("create('" + directory.path + "/" + name + "')"));
  auto written = write_all(fd.get(), bytes.data(), bytes.size());
  if (!written) return fail(written.error().context("write('" + directory.path + "/" + name + "')"));
  return {};
}

}  // namespace hutch::image
