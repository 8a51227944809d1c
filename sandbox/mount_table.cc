#include "sandbox/mount_table.h"

#include <algorithm>
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

Result<std::vector<MountEntry>> read_mount_table() {
  TRY_ASSIGN(std::string text, read_file("/proc/self/mountinfo", 4 << 20));
  std::vector<MountEntry> table;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    auto separator = line.find(" - ");
    if (separator == std::string::npos) continue;
    std::vector<std::string> before = split(line.substr(0, separator), ' ');
    std::vector<std::string> after = split(line.substr(separator + 3), ' ');
    if (before.size() < 5 || after.size() < 3) continue;
    table.push_back({unescape_octal(before[3]), unescape_octal(before[4]), after[0], after[2]});
  }
  return table;
}

std::vector<std::string> mount_points_below(const std::vector<MountEntry> &table, const std::string &directory) {
  std::vector<std::string> found;
  for (const MountEntry &entry : table) {
    if (entry.mount_point.rfind(directory + "/", 0) == 0) found.push_back(entry.mount_point);
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  std::vector<std::string> outermost;
  for (const std::string &path : found) {
    if (!outermost.empty() && path.rfind(outermost.back() + "/", 0) == 0) continue;
    outermost.push_back(path);
  }
  return outermost;
}

}  // namespace hutch
