// Which cgroup version hutchd would use and whether it may make cgroups beneath its own. Mirrors what
// CgroupManager::detect requires (cgroup_v1.cc, cgroup_v2.cc) without creating hutchd's subtree: the only
// change to the machine is one empty test cgroup per hierarchy, removed at once.
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "common/file_io.h"
#include "sandbox/cgroup.h"
#include "sandbox/cgroup_mounts.h"
#include "sandbox/host_probe.h"

namespace hutch {
namespace {

constexpr const char *kRequiredControllers[] = {"memory", "cpu", "pids"};

bool contains(const std::vector<std::string> &names, const std::string &name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// "memory cpu pids" -> "memory, cpu and pids".
std::string listed(const std::vector<std::string> &names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out;
}

std::vector<std::string> missing_required(const std::vector<std::string> &controllers) {
  std::vector<std::string> missing;
  for (const char *name : kRequiredControllers) {
    if (!contains(controllers, name)) missing.push_back(name);
  }
  return missing;
}

// mkdir then rmdir of a name no one else uses. An empty cgroup always rmdirs; if it somehow did not, the
// error says where it was left so the operator can remove it.
Status try_child_cgroup(const std::string &directory) {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  std::string test = directory + "/hutch-probe-" + std::to_string(::getpid()) + "-" + std::to_string(now.tv_nsec);
  if (::mkdir(test.c_str(), 0755) != 0) return fail(errno_error("mkdir('" + test + "')"));
  if (::rmdir(test.c_str()) != 0) return fail(errno_error("rmdir('" + test + "') of the test cgroup"));
  return {};
}

CgroupVersionFindings probe_v2(const std::vector<CgroupMount> &mounts) {
  CgroupVersionFindings found;
  const CgroupMount *unified = nullptr;
  for (const CgroupMount &mount : mounts) {
    if (mount.is_v2) unified = &mount;
  }
  if (unified == nullptr) {
    found.problem = "no cgroup2 file system is mounted";
    return found;
  }
  auto own_path = cgroup_files::own_cgroup_path("");
  if (!own_path) {
    found.problem = own_path.error().message;
    return found;
  }
  std::string directory = cgroup_directory(*unified, *own_path);
  auto available = read_file(directory + "/cgroup.controllers");
  if (!available) {
    found.problem = available.error().message;
    return found;
  }
  std::istringstream words(*available);
  for (std::string word; words >> word;) found.controllers.push_back(word);
  std::vector<std::string> missing = missing_required(found.controllers);
  if (!missing.empty()) {
    found.problem = listed(missing) + (missing.size() == 1 ? " is" : " are") + " not in '" + directory +
                    "/cgroup.controllers'" + (found.controllers.empty() ? ", which lists none" : "");
    return found;
  }
  found.has_required = true;
  found.hierarchies.push_back({"", *own_path, directory, try_child_cgroup(directory)});
  // As cgroup_v2.cc requires; the root cgroup is exempt from the rule against processes beside controllers.
  if (*own_path != "/") {
    auto others = cgroup_v2_other_processes(directory);
    if (others) found.other_processes = std::move(*others);
  }
  for (const char *file : {"cgroup.procs", "cgroup.subtree_control"}) {
    std::string path = directory + "/" + file;
    if (::access(path.c_str(), W_OK) != 0) {
      found.own_cgroup_writable = fail(errno_error("access('" + path + "', W_OK)"));
      break;
    }
  }
  return found;
}

CgroupVersionFindings probe_v1(const std::vector<CgroupMount> &mounts) {
  CgroupVersionFindings found;
  for (const CgroupMount &mount : mounts) {
    for (const std::string &name : mount.controllers) {
      if (!contains(found.controllers, name)) found.controllers.push_back(name);
    }
  }
  std::vector<std::string> missing = missing_required(found.controllers);
  if (!missing.empty()) {
    found.problem = "no " + listed(missing) + " hierarchy is mounted";
    return found;
  }
  found.has_required = true;
  // cpuacct is optional to hutchd but, when mounted, it makes its cgroups there too.
  std::vector<std::string> used = {"memory", "cpu", "pids"};
  if (contains(found.controllers, "cpuacct")) used.push_back("cpuacct");
  std::vector<std::string> probed_directories;  // cpu and cpuacct often share one hierarchy
  for (const std::string &controller : used) {
    const CgroupMount *hierarchy = nullptr;
    for (const CgroupMount &mount : mounts) {
      if (contains(mount.controllers, controller)) hierarchy = &mount;
    }
    CgroupHierarchy probe{controller, "", "", {}};
    auto own_path = cgroup_files::own_cgroup_path(controller);
    if (!own_path) {
      probe.child_created = fail(own_path.error());
    } else {
      probe.own_path = *own_path;
      probe.directory = cgroup_directory(*hierarchy, *own_path);
      if (!contains(probed_directories, probe.directory)) {
        probe.child_created = try_child_cgroup(probe.directory);
        probed_directories.push_back(probe.directory);
      }
    }
    found.hierarchies.push_back(std::move(probe));
  }
  return found;
}

}  // namespace

bool CgroupVersionFindings::delegated() const {
  if (!has_required || !other_processes.empty() || !own_cgroup_writable) return false;
  return std::all_of(hierarchies.begin(), hierarchies.end(),
                     [](const CgroupHierarchy &hierarchy) { return hierarchy.child_created.has_value(); });
}

CgroupFindings probe_cgroups() {
  CgroupFindings found;
  auto mounts = read_cgroup_mounts();
  if (!mounts) {
    found.v2.problem = found.v1.problem = mounts.error().message;
    return found;
  }
  found.v2 = probe_v2(*mounts);
  found.v1 = probe_v1(*mounts);
  if (found.v2.delegated()) found.mechanism = LimitsMechanism::kCgroupV2;
  else if (found.v1.delegated()) found.mechanism = LimitsMechanism::kCgroupV1;
  return found;
}

}  // namespace hutch
