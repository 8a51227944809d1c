#include "tests/support/test_cgroup.h"

#include <dirent.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace hutch::test {
namespace {

bool file_system_is(const char *path, long magic) {
  struct statfs info {};
  return ::statfs(path, &info) == 0 && static_cast<long>(info.f_type) == magic;
}

std::string test_cgroup_parent() {
  const char *parent = std::getenv("HUTCH_TEST_CGROUP");
  return parent == nullptr ? "" : parent;
}

void remove_empty_tree(const std::string &path, int depth) {
  if (depth > 8) return;  // hutch's cgroups nest three deep; anything deeper is not ours to walk
  if (DIR *directory = ::opendir(path.c_str())) {
    std::vector<std::string> children;
    while (dirent *entry = ::readdir(directory)) {
      std::string name = entry->d_name;
      if (entry->d_type == DT_DIR && name != "." && name != "..") children.push_back(path + "/" + name);
    }
    ::closedir(directory);
    for (const std::string &child : children) remove_empty_tree(child, depth + 1);
  }
  ::rmdir(path.c_str());  // EBUSY while a process is in it: left, by design
}

}  // namespace

std::string host_cgroup_version() {
  if (file_system_is("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC)) {
    std::ifstream controllers("/sys/fs/cgroup/cgroup.controllers");
    std::string word;
    while (controllers >> word) {
      if (word == "memory") return "v2";
    }
  }
  if (file_system_is("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC)) return "v1";
  return "";
}

std::vector<std::string> own_test_cgroup(const std::string &name) {
  std::string parent = test_cgroup_parent();
  if (parent.empty()) return {};
  std::string directory = parent + "/" + name;
  ::mkdir(directory.c_str(), 0755);  // EEXIST: a restart under the same name reuses it, as a unit would
  return {directory + "/cgroup.procs"};
}

std::string test_cgroup_directory(const std::string &name) {
  std::string parent = test_cgroup_parent();
  return parent.empty() ? "" : parent + "/" + name;
}

void remove_empty_test_cgroup(const std::string &name) {
  std::string parent = test_cgroup_parent();
  if (!parent.empty()) remove_empty_tree(parent + "/" + name, 0);
}

}  // namespace hutch::test
