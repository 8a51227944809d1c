// What a sandbox executes, opened once when a function is registered and reused by every job.
#pragma once

#include <string>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hutch {

class ExecTarget {
 public:
  // Opens `path` (absolute). An ELF binary is executed through an O_PATH fd, so the sandbox user needs no
  // search permission on the directories above it; a script (#!) is executed by path, because its
  // interpreter is handed the path and a /dev/fd name would be closed by then.
  static Result<ExecTarget> open(const std::string &path);
  // A file the sandbox sees elsewhere than the host does (a user function's package, shown at /function):
  // opened at `host_path`, a script is run by `sandbox_path`.
  static Result<ExecTarget> open(const std::string &host_path, const std::string &sandbox_path);

  const std::string &path() const { return path_; }
  int fd() const { return is_elf_ ? fd_.get() : -1; }

 private:
  std::string path_;
  UniqueFd fd_;
  bool is_elf_ = false;
};

}  // namespace hutch
