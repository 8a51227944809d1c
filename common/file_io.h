// Small EINTR-safe helpers for the short control files of /proc and /sys. Not for the child after fork:
// they allocate (std::string).
#pragma once

#include <string>

#include "common/error.h"

namespace hutch {

Result<std::string> read_file(const std::string &path, size_t max_bytes = 1 << 20);
Status write_file(const std::string &path, const std::string &content);
// Writes all of `data`, retrying on EINTR and short writes.
Status write_all(int fd, const void *data, size_t size);

}  // namespace hutch
