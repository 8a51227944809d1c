#include "sandbox/cgroup_mounts.h"

#include <sstream>

#include "common/file_io.h"

namespace hutch {
namespace {

std::vector<std::string> split(const std::string &text, char separator) {
  std::vector<std::string> parts;
  std::istringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator)) parts.push_back(part);
  return parts;
}

// mountinfo escapes spaces and a few other characters as \ooo.
std::string unescape_octal(const std::string &text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size()) {
      out.push_back(static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

}  // namespace

Result<std::vector<CgroupMount>> read_cgroup_mounts() {
  TRY_ASSIGN(std::string text, read_file("/proc/self/mountinfo", 4 << 20));
  std::vector<CgroupMount> mounts;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    auto separator = line.find(" - ");
    if (separator == std::string::npos) continue;
    std::vector<std::string> before = split(line.substr(0, separator), ' ');
    std::vector<std::string> after = split(line.substr(separator + 3), ' ');
    if (before.size() < 5 || after.size() < 3) continue;
    const std::string &fstype = after[0];
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    CgroupMount mount;
    mount.root = unescape_octal(before[3]);
    mount.mount_point = unescape_octal(before[4]);
    mount.is_v2 = fstype == "cgroup2";
    if (!mount.is_v2) {
      for (const std::string &option : split(after[2], ',')) {
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
