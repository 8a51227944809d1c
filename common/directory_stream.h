// An open directory stream with an owner: closed exactly once, on every path. opendir/fdopendir with a
// closedir by hand leaked the stream on early returns, and fdopendir leaked the fd it was given when it
// failed.
#pragma once

#include <dirent.h>

#include <memory>
#include <string>

#include "common/error.h"

namespace hutch {

class DirectoryStream {
 public:
  // `path` names the directory in errors.
  static Result<DirectoryStream> open(const std::string &path);
  // Lists the directory `fd` refers to, from its start. fdopendir takes over the fd it is given, so it gets a
  // duplicate (closed here if fdopendir fails); `fd` stays the caller's and usable. `what` names it in errors.
  static Result<DirectoryStream> open_fd(int fd, const std::string &what);

  // The next entry ("." and ".." skipped), valid until the next call; nullptr at the end, or when reading
  // failed: read_error() then holds the errno (0 after a clean end).
  const dirent *next();
  int read_error() const { return read_errno_; }

 private:
  struct Closer {
    void operator()(DIR *directory) const { ::closedir(directory); }
  };
  explicit DirectoryStream(DIR *directory) : directory_(directory) {}

  std::unique_ptr<DIR, Closer> directory_;
  int read_errno_ = 0;
};

}  // namespace hutch
