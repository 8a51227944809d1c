// This process's mount table, from /proc/self/mountinfo: where each filesystem is mounted and what it is.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"

namespace hutch {

struct MountEntry {
  std::string root;           // the path inside its filesystem shown at mount_point ("/" unless a bind)
  std::string mount_point;    // unescaped: "\040" in the file is a space
  std::string fstype;         // "cgroup2", "ext4", ...
  std::string super_options;  // "rw,memory" for a v1 cgroup
};

Result<std::vector<MountEntry>> read_mount_table();

// The mount points strictly below `directory`, outermost only (a mount below another one is left out), in
// path order, so parents come before their children.
std::vector<std::string> mount_points_below(const std::vector<MountEntry> &table, const std::string &directory);

}  // namespace hutch
