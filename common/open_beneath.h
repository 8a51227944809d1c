// Opening a file beneath a directory whose contents someone else chose (a package from Redis, the package
// cache, /usr as named by a stored entry): openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
// RESOLVE_NO_MAGICLINKS, so the path never leaves the directory and never goes through a link, whatever
// races with it. And the one way sentences name a file's type.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "common/unique_fd.h"

namespace hutch {

// `relative` beneath `directory_fd` with open flags `flags` (O_CLOEXEC is added); invalid with errno set
// when it cannot be opened so.
UniqueFd open_beneath(int directory_fd, const std::string &relative, uint64_t flags);

// "a directory", "a FIFO", "a socket", "a character device", "a block device", "a symbolic link", "a
// regular file".
std::string file_type_name(mode_t mode);

}  // namespace hutch
