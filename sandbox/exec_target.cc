#include "sandbox/exec_target.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "common/open_beneath.h"
#include "common/quote.h"

namespace hutch {
// The O_PATH fd opened nothing (a FIFO's open would wait for a writer, a device's would run its driver), so
// the checks come first; only a regular file is then opened for reading, through the fd itself, so the
// file read is the file checked.
Result<ExecTarget> ExecTarget::from_path_fd(UniqueFd fd, const std::string &shown) {
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return fail(errno_error("stat(" + quote_value(shown) + ")"));
  if (!S_ISREG(info.st_mode)) return fail(make_error(quote_value(shown) + " is " + file_type_name(info.st_mode) + ", not a regular file"));
  if ((info.st_mode & 0111) == 0) return fail(make_error(quote_value(shown) + " is not executable (no x bit)"));
  UniqueFd readable(::open(("/proc/self/fd/" + std::to_string(fd.get())).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!readable) return fail(errno_error("open(" + quote_value(shown) + ")"));
  ExecTarget target;
  target.path_ = shown;
  char magic[4] = {};
  target.is_elf_ = ::pread(readable.get(), magic, sizeof magic, 0) == 4 && std::memcmp(magic, "\x7f" "ELF", 4) == 0;
  target.fd_ = std::move(fd);
  return target;
}

Result<ExecTarget> ExecTarget::open(const std::string &path) {
  if (path.empty() || path[0] != '/') return fail(make_error(quote_value(path) + " is not an absolute path"));
  UniqueFd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!fd) return fail(errno_error("open(" + quote_value(path) + ")"));
  return from_path_fd(std::move(fd), path);
}

Result<ExecTarget> ExecTarget::open_beneath(int directory_fd, const std::string &relative, const std::string &sandbox_path) {
  UniqueFd fd = hutch::open_beneath(directory_fd, relative, O_PATH);
  if (!fd) return fail(errno_error("open(" + quote_value(sandbox_path) + ")"));
  return from_path_fd(std::move(fd), sandbox_path);
}

}  // namespace hutch
