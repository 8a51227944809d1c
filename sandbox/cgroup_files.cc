#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <sstream>

#include "common/directory_stream.h"
#include "common/file_io.h"
#include "sandbox/cgroup.h"

namespace hutch::cgroup_files {
namespace {

Result<uint64_t> parse_u64(const std::string &text, const std::string &path) {
  uint64_t value = 0;
  const char *begin = text.data();
  const char *end = text.data() + text.size();
  while (end > begin && (end[-1] == '\n' || end[-1] == ' ')) --end;
  if (std::string_view(begin, end - begin) == "max") return UINT64_MAX;
  auto [stop, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || stop != end)
    return fail(make_error("'" + path + "' holds '" + text + "', not a number"));
  return value;
}

}  // namespace

Result<uint64_t> read_u64(const std::string &path) {
  TRY_ASSIGN(std::string text, read_file(path, 256));
  return parse_u64(text, path);
}

Result<uint64_t> read_keyed_u64(const std::string &path, const std::string &key) {
  TRY_ASSIGN(std::string text, read_file(path, 64 * 1024));
  return parse_keyed_u64(text, key, path);
}

Result<uint64_t> parse_keyed_u64(const std::string &text, const std::string &key, const std::string &path) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 && line[key.size()] == ' ')
      return parse_u64(line.substr(key.size() + 1), path);
  }
  return 0;
}

Result<std::vector<pid_t>> read_pids(const std::string &procs_path) {
  TRY_ASSIGN(std::string text, read_file(procs_path, 16 << 20));
  return parse_pids(text);
}

Result<std::string> read_open_file(int fd, const std::string &what) {
  std::string content;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::pread(fd, buffer, sizeof buffer, static_cast<off_t>(content.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno_error("read('" + what + "')"));
    content.append(buffer, static_cast<size_t>(n));
    if (static_cast<size_t>(n) < sizeof buffer) return content;  // short read: that was all of it
  }
}

Status write_open_file(int fd, const std::string &content, const std::string &what) {
  for (;;) {
    ssize_t n = ::pwrite(fd, content.data(), content.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno_error("write('" + what + "')"));
    return {};
  }
}

std::vector<pid_t> parse_pids(const std::string &text) {
  std::vector<pid_t> pids;
  const char *cursor = text.data();
  const char *end = text.data() + text.size();
  while (cursor < end) {
    pid_t pid = 0;
    auto [stop, ec] = std::from_chars(cursor, end, pid);
    if (ec == std::errc()) pids.push_back(pid);
    cursor = stop + 1;
  }
  return pids;
}

Result<bool> kill_listed(const std::string &procs_path, pid_t spared) {
  TRY_ASSIGN(std::vector<pid_t> pids, read_pids(procs_path));
  bool none = true;
  for (pid_t pid : pids) {
    if (pid == spared) continue;
    none = false;
    ::kill(pid, SIGKILL);  // ESRCH means it died meanwhile: that is the goal, not an error
  }
  return none;
}

Status make_directory(const std::string &path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return fail(errno_error("mkdir('" + path + "')"));
  return {};
}

Result<bool> try_remove_tree(const std::string &path) {
  auto directory = DirectoryStream::open(path);
  if (!directory) {
    if (directory.error().errno_value == ENOENT) return true;
    return fail(directory.error());
  }
  std::vector<std::string> children;
  while (const dirent *entry = directory->next()) {
    if (entry->d_type == DT_DIR) children.push_back(path + "/" + entry->d_name);
  }
  bool removed = true;
  for (const std::string &child : children) {
    TRY_ASSIGN(bool child_removed, try_remove_tree(child));
    removed = removed && child_removed;
  }
  // Killed processes leave the cgroup only once they have fully exited: the rmdir may have to wait for that.
  (void)kill_listed(path + "/cgroup.procs");  // the rmdir below says whether anything is left
  if (!removed) return false;
  if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return true;
  if (errno == EBUSY) return false;
  return fail(errno_error("rmdir('" + path + "')"));
}

Status remove_tree(const std::string &path) {
  constexpr int kRounds = 200;  // 5 ms apart: a second
  for (int round = 0; round < kRounds; ++round) {
    TRY_ASSIGN(bool removed, try_remove_tree(path));
    if (removed) return {};
    ::usleep(5000);
  }
  return fail(errno_error(EBUSY, "rmdir('" + path + "') after killing its processes for 1 s"));
}

Result<std::string> own_cgroup_path(const std::string &controller) {
  TRY_ASSIGN(std::string text, read_file("/proc/self/cgroup"));
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    // hierarchy-id:controller-list:path
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string hierarchy = line.substr(0, first);
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (controller.empty()) {
      if (hierarchy == "0" && controllers.empty()) return path;
      continue;
    }
    std::istringstream names(controllers);
    std::string name;
    while (std::getline(names, name, ',')) {
      if (name == controller) return path;
    }
  }
  return fail(make_error("/proc/self/cgroup lists no " +
                         (controller.empty() ? std::string("cgroup v2") : controller + " cgroup")));
}

}  // namespace hutch::cgroup_files
