// The one rule for names of files that cross the sandbox boundary (a job's input files, the files a
// function hands back): queue/ checks it on the job, sandbox/ on what the function wrote.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>

namespace hutch {

inline constexpr size_t kMaxFileNameBytes = 255;

// 1-255 bytes of letters, digits and ._-+, not starting with '.' or '-': no hidden files, no "." or "..",
// nothing a shell or a path could misread.
inline bool is_valid_file_name(const std::string &name) {
  if (name.empty() || name.size() > kMaxFileNameBytes || name[0] == '.' || name[0] == '-') return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-' || c == '+';
  });
}

inline constexpr const char kFileNameRule[] =
    "use 1-255 letters, digits, '.', '_', '-' or '+', not starting with '.' or '-', e.g. photo.jpg";

}  // namespace hutch
