// What a sandbox executes, opened once when a function is registered (or, for a user function, each time a
// job resolves it) and reused by the job. Opening never waits: the file is first opened with O_PATH and
// checked (a regular file with an x bit) before anything reads it, so a FIFO or a device under the name is
// refused, not opened.
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
  // A user function's program: `relative` resolved beneath `directory_fd` (its package's directory, or
  // /usr) with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): never through a link, never out of it. A
  // script is run by `sandbox_path`, where the sandbox sees it.
  static Result<ExecTarget> open_beneath(int directory_fd, const std::string &relative, const std::string &sandbox_path);

  const std::string &path() const { return path_; }
  int fd() const { return is_elf_ ? fd_.get() : -1; }

 private:
  static Result<ExecTarget> from_path_fd(UniqueFd fd, const std::string &shown);

  std::string path_;
  UniqueFd fd_;
  bool is_elf_ = false;
};

}  // namespace hutch
