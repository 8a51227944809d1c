#include "tests/security/host_view.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/support/process.h"

namespace hutch::test {
namespace {

std::vector<int> numeric_entries(const std::string &directory) {
  std::vector<int> numbers;
  DIR *listing = ::opendir(directory.c_str());
  if (listing == nullptr) return numbers;
  while (dirent *entry = ::readdir(listing)) {
    std::string name = entry->d_name;
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) numbers.push_back(std::stoi(name));
  }
  ::closedir(listing);
  return numbers;
}

// "Uid:\t60000\t60000\t60000\t60000" and "State:\tZ (zombie)" from /proc/<pid>/status.
struct ProcessStatus {
  std::optional<uid_t> uid;
  bool zombie = false;
};

ProcessStatus status_of(int pid) {
  ProcessStatus status;
  std::istringstream lines(read_file_text("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("State:", 0) == 0) status.zombie = line.find('Z') != std::string::npos;
    if (line.rfind("Uid:", 0) == 0) status.uid = static_cast<uid_t>(std::strtoul(line.c_str() + 4, nullptr, 10));
  }
  return status;
}

// hutchd's own cgroup in one hierarchy: the path after "<id>:<controllers>:" on the line of /proc/<pid>/cgroup
// whose controller list holds `controller` ("" for the unified hierarchy's "0::" line).
std::optional<std::string> own_cgroup(pid_t pid, const std::string &controller) {
  std::istringstream lines(read_file_text("/proc/" + std::to_string(pid) + "/cgroup"));
  for (std::string line; std::getline(lines, line);) {
    size_t first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = "," + line.substr(first + 1, second - first - 1) + ",";
    bool match =
        controller.empty() ? controllers == ",," : controllers.find("," + controller + ",") != std::string::npos;
    if (match) return line.substr(second + 1);
  }
  return std::nullopt;
}

void collect_procs_files(const std::string &directory, int depth, std::vector<std::string> *files) {
  if (::access((directory + "/cgroup.procs").c_str(), R_OK) == 0) files->push_back(directory + "/cgroup.procs");
  if (depth == 0) return;
  DIR *listing = ::opendir(directory.c_str());
  if (listing == nullptr) return;
  while (dirent *entry = ::readdir(listing)) {
    if (entry->d_type == DT_DIR && entry->d_name[0] != '.')
      collect_procs_files(directory + "/" + entry->d_name, depth - 1, files);
  }
  ::closedir(listing);
}

}  // namespace

int count_host_processes() {
  return static_cast<int>(numeric_entries("/proc").size());
}

std::vector<int> processes_with_uid(uid_t first_uid, int count) {
  std::vector<int> found;
  for (int pid : numeric_entries("/proc")) {
    ProcessStatus status = status_of(pid);
    if (status.uid && !status.zombie && *status.uid >= first_uid && *status.uid < first_uid + static_cast<uid_t>(count))
      found.push_back(pid);
  }
  return found;
}

std::optional<uid_t> uid_of(int pid) {
  return status_of(pid).uid;
}

std::string executable_of(int pid) {
  char target[4096];
  ssize_t length = ::readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), target, sizeof target - 1);
  return length > 0 ? std::string(target, static_cast<size_t>(length)) : "";
}

std::vector<std::string> job_cgroup_procs_files(pid_t hutchd_pid, const std::string &consumer) {
  std::string base;
  if (::access("/sys/fs/cgroup/pids/cgroup.procs", R_OK) == 0) {
    auto own = own_cgroup(hutchd_pid, "pids");
    if (!own) return {};
    base = "/sys/fs/cgroup/pids" + (*own == "/" ? "" : *own);
  } else {
    auto own = own_cgroup(hutchd_pid, "");
    if (!own) return {};
    // Under v2 hutchd moves itself into <own>/supervisor to enable controllers in <own>.
    std::string path = *own;
    if (path.size() > 11 && path.compare(path.size() - 11, 11, "/supervisor") == 0) path.resize(path.size() - 11);
    base = "/sys/fs/cgroup" + (path == "/" ? "" : path);
  }
  std::vector<std::string> files;
  collect_procs_files(base + "/hutch-" + consumer, 3, &files);
  return files;
}

std::vector<int> pids_in(const std::string &cgroup_procs_file) {
  std::vector<int> pids;
  std::istringstream numbers(read_file_text(cgroup_procs_file));
  for (int pid; numbers >> pid;) pids.push_back(pid);
  return pids;
}

std::optional<uint64_t> available_bytes(const std::string &path) {
  struct statvfs info {};
  if (::statvfs(path.c_str(), &info) != 0) return std::nullopt;
  return static_cast<uint64_t>(info.f_bavail) * info.f_frsize;
}

std::optional<std::string> default_route_ipv4() {
  // /proc/net/route: "Iface Destination Gateway ..." with the destination in hex; 00000000 is the default.
  std::istringstream routes(read_file_text("/proc/net/route"));
  std::string interface;
  for (std::string line; std::getline(routes, line);) {
    std::istringstream fields(line);
    std::string name, destination;
    if (fields >> name >> destination && destination == "00000000") {
      interface = name;
      break;
    }
  }
  if (interface.empty()) return std::nullopt;
  ifaddrs *addresses = nullptr;
  if (::getifaddrs(&addresses) != 0) return std::nullopt;
  std::optional<std::string> found;
  for (ifaddrs *address = addresses; address != nullptr && !found; address = address->ifa_next) {
    if (address->ifa_addr == nullptr || address->ifa_addr->sa_family != AF_INET || interface != address->ifa_name)
      continue;
    char text[INET_ADDRSTRLEN];
    auto *ipv4 = reinterpret_cast<sockaddr_in *>(address->ifa_addr);
    if (::inet_ntop(AF_INET, &ipv4->sin_addr, text, sizeof text) != nullptr) found = text;
  }
  ::freeifaddrs(addresses);
  return found;
}

}  // namespace hutch::test
