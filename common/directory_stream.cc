#include "common/directory_stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "common/unique_fd.h"

namespace hutch {

Result<DirectoryStream> DirectoryStream::open(const std::string &path) {
  DIR *directory = ::opendir(path.c_str());
  if (directory == nullptr) return fail(errno_error("opendir('" + path + "')"));
  return DirectoryStream(directory);
}

Result<DirectoryStream> DirectoryStream::open_fd(int fd, const std::string &what) {
  UniqueFd duplicate(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!duplicate) return fail(errno_error("dup(" + what + ")"));
  DIR *directory = ::fdopendir(duplicate.get());
  if (directory == nullptr) return fail(errno_error("opendir(" + what + ")"));
  duplicate.release();  // the stream owns it now
  // A duplicate shares the file offset: start from the beginning whatever the original has read.
  ::rewinddir(directory);
  return DirectoryStream(directory);
}

const dirent *DirectoryStream::next() {
  for (;;) {
    errno = 0;
    const dirent *entry = ::readdir(directory_.get());
    if (entry == nullptr) {
      read_errno_ = errno;
      return nullptr;
    }
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) return entry;
  }
}

}  // namespace hutch
