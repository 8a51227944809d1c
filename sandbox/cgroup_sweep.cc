// Finding and removing the `hutch-*` subtrees earlier supervisors left (see cgroup_sweep.h).
//
// Only the hierarchies hutch itself uses are searched, and only beside this process's own cgroup: that is
// where every supervisor started the same way (same service, same shell) puts its subtree, and nowhere
// else is ours to touch.
#include "sandbox/cgroup_sweep.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "common/directory_stream.h"
#include "common/file_io.h"
#include "sandbox/cgroup.h"
#include "sandbox/cgroup_mounts.h"

namespace hutch {
namespace {

constexpr const char *kPrefix = "hutch-";

bool uses_hutch_controller(const CgroupMount &mount) {
  for (const std::string &name : mount.controllers) {
    if (name == "memory" || name == "cpu" || name == "cpuacct" || name == "pids") return true;
  }
  return false;
}

// The directories that hold this process's own cgroup, one per hierarchy hutch uses, and whether each is
// the v2 one (a hybrid host has both; a supervisor's subtree is in the v2 one or in the v1 ones, never both).
Result<std::map<std::string, bool>> parent_directories() {
  TRY_ASSIGN(std::vector<CgroupMount> mounts, read_cgroup_mounts());
  std::map<std::string, bool> parents;
  for (const CgroupMount &mount : mounts) {
    if (!mount.is_v2 && !uses_hutch_controller(mount)) continue;
    // v1 controllers mounted together (cpu,cpuacct) share one directory: any of them names it.
    auto own = cgroup_files::own_cgroup_path(mount.is_v2 ? "" : mount.controllers.front());
    if (!own) continue;  // a hierarchy this process is not in (e.g. one mounted for a container)
    parents.emplace(cgroup_directory(mount, *own), mount.is_v2);
  }
  return parents;
}

// Appends the directory and every cgroup below it, parents before children.
void list_tree(const std::string &path, std::vector<std::string> &out) {
  out.push_back(path);
  auto directory = DirectoryStream::open(path);
  if (!directory) return;  // gone meanwhile, or unreadable: remove_tree reports what matters
  std::vector<std::string> children;
  while (const dirent *entry = directory->next()) {
    if (entry->d_type == DT_DIR) children.push_back(path + "/" + entry->d_name);
  }
  for (const std::string &child : children) list_tree(child, out);
}

}  // namespace

Result<std::vector<CgroupSubtree>> find_cgroup_subtrees() {
  TRY_ASSIGN(auto parents, parent_directories());
  size_t v1_parents = 0;
  for (const auto &[parent, is_v2] : parents) v1_parents += is_v2 ? 0 : 1;
  std::map<std::string, std::vector<std::string>> by_instance;
  std::map<std::string, size_t> v1_found;  // instance -> in how many v1 hierarchies
  for (const auto &[parent, is_v2] : parents) {
    TRY_ASSIGN(DirectoryStream directory, DirectoryStream::open(parent));
    while (const dirent *entry = directory.next()) {
      std::string name = entry->d_name;
      if (entry->d_type != DT_DIR || name.rfind(kPrefix, 0) != 0 || name.size() == std::strlen(kPrefix)) continue;
      std::string instance = name.substr(std::strlen(kPrefix));
      by_instance[instance].push_back(parent + "/" + name);
      if (!is_v2) ++v1_found[instance];
    }
  }
  std::vector<CgroupSubtree> subtrees;
  for (auto &[instance, directories] : by_instance) {
    std::sort(directories.begin(), directories.end());
    bool owned_by_me = true;
    for (const std::string &directory : directories) {
      struct stat info {};
      if (::stat(directory.c_str(), &info) != 0 || info.st_uid != ::geteuid()) owned_by_me = false;
    }
    // A v2 subtree has one directory; a v1 one has one in each v1 hierarchy hutch uses.
    size_t in_v1 = v1_found[instance];
    bool in_every_hierarchy = in_v1 == 0 || in_v1 == v1_parents;
    subtrees.push_back({instance, std::move(directories), owned_by_me, in_every_hierarchy});
  }
  return subtrees;
}

Result<size_t> remove_cgroup_subtree(const CgroupSubtree &subtree) {
  std::set<pid_t> found;
  for (const std::string &top : subtree.directories) {
    std::vector<std::string> tree;
    list_tree(top, tree);
    for (const std::string &directory : tree) {
      auto pids = cgroup_files::read_pids(directory + "/cgroup.procs");
      if (pids) found.insert(pids->begin(), pids->end());
    }
    // cgroup v2 (5.14+) kills the whole subtree at once, forks included; remove_tree's loop is the rest.
    std::string kill_file = top + "/cgroup.kill";
    if (::access(kill_file.c_str(), W_OK) == 0) {
      auto killed = write_file(kill_file, "1");
      (void)killed;  // a failed write leaves the processes to remove_tree's SIGKILL loop, which reports
    }
  }
  for (const std::string &top : subtree.directories) TRY_STATUS(cgroup_files::remove_tree(top));
  return found.size();
}

}  // namespace hutch
