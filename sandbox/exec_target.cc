#include "sandbox/exec_target.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace hutch {

Result<ExecTarget> ExecTarget::open(const std::string &path) {
  if (path.empty() || path[0] != '/') return fail(make_error("'" + path + "' is not an absolute path"));
  ExecTarget target;
  target.path_ = path;
  UniqueFd readable(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!readable) return fail(errno_error("open('" + path + "')"));
  struct stat info {};
  if (::fstat(readable.get(), &info) != 0) return fail(errno_error("stat('" + path + "')"));
  if (!S_ISREG(info.st_mode)) return fail(make_error("'" + path + "' is not a regular file"));
  if ((info.st_mode & 0111) == 0) return fail(make_error("'" + path + "' is not executable (no x bit)"));
  char magic[4] = {};
  target.is_elf_ = ::pread(readable.get(), magic, sizeof magic, 0) == 4 && std::memcmp(magic, "\x7f" "ELF", 4) == 0;
  target.fd_.reset(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!target.fd_) return fail(errno_error("open('" + path + "', O_PATH)"));
  return target;
}

Result<ExecTarget> ExecTarget::open(const std::string &host_path, const std::string &sandbox_path) {
  TRY_ASSIGN(ExecTarget target, open(host_path));
  target.path_ = sandbox_path;
  return target;
}

}  // namespace hutch
