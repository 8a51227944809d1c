// Where the cgroup hierarchies are mounted, from /proc/self/mountinfo.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"

namespace hutch {

struct CgroupMount {
  std::string mount_point;               // /sys/fs/cgroup/memory
  std::string root;                      // the hierarchy path shown at mount_point ("/" unless bind-mounted)
  bool is_v2 = false;
  std::vector<std::string> controllers;  // v1: from the super options; v2: empty (see cgroup.controllers)
};

Result<std::vector<CgroupMount>> read_cgroup_mounts();

// The directory of cgroup `path` (as /proc/self/cgroup names it) inside `mount`.
std::string cgroup_directory(const CgroupMount &mount, const std::string &path);

// "my consumer:12" -> "my-consumer-12": a name safe as one path component.
std::string sanitize_cgroup_name(const std::string &name);

}  // namespace hutch
