#include "common/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/unique_fd.h"

namespace hutch {

Result<std::string> read_file(const std::string &path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail(errno_error("open('" + path + "')"));
  std::string content;
  char buffer[4096];
  while (content.size() < max_bytes) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno_error("read('" + path + "')"));
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  return content;
}

Status write_all(int fd, const void *data, size_t size) {
  const char *cursor = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, cursor, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno_error("write"));
    cursor += n;
    size -= static_cast<size_t>(n);
  }
  return {};
}

Status write_file(const std::string &path, const std::string &content) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return fail(errno_error("open('" + path + "')"));
  auto written = write_all(fd.get(), content.data(), content.size());
  if (!written) return fail(written.error().context("'" + path + "'"));
  return {};
}

}  // namespace hutch
