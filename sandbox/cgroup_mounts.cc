#include "sandbox/cgroup_mounts.h"

#include <sstream>

#include "sandbox/mount_table.h"

namespace hutch {
Result<std::vector<CgroupMount>> read_cgroup_mounts() {
  TRY_ASSIGN(std::vector<MountEntry> table, read_mount_table());
  std::vector<CgroupMount> mounts;
  for (const MountEntry &entry : table) {
    if (entry.fstype != "cgroup" && entry.fstype != "cgroup2") continue;
    CgroupMount mount;
    mount.root = entry.root;
    mount.mount_point = entry.mount_point;
    mount.is_v2 = entry.fstype == "cgroup2";
    if (!mount.is_v2) {
      std::istringstream options(entry.super_options);
      std::string option;
      while (std::getline(options, option, ',')) {
        if (option == "rw" || option == "ro" || option.find('=') != std::string::npos) continue;
        mount.controllers.push_back(option);
      }
    }
    mounts.push_back(std::move(mount));
  }
  return mounts;
}

std::string cgroup_directory(const CgroupMount &mount, const std::string &path) {
  std::string relative = path;
  // Inside a container the mount may show only a subtree: strip the part above the mount's root.
  if (mount.root != "/" && relative.rfind(mount.root, 0) == 0) relative = relative.substr(mount.root.size());
  if (relative.empty() || relative == "/") return mount.mount_point;
  return mount.mount_point + (relative[0] == '/' ? "" : "/") + relative;
}

std::string sanitize_cgroup_name(const std::string &name) {
  std::string out;
  for (char c : name) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    out.push_back(safe ? c : '-');
  }
  if (out.empty() || out[0] == '.') out.insert(out.begin(), 'x');
  return out;
}

}  // namespace hutch
