#include "functions/builtin_names.h"

#include <algorithm>

namespace hutch {

const std::vector<std::string> &builtin_function_names() {
  static const std::vector<std::string> names{"hello", "sleep"};
  return names;
}

const std::vector<std::string> &image_function_names() {
  static const std::vector<std::string> names{"rgb2gray", "clahe_equalization", "resize_image"};
  return names;
}

bool is_valid_function_name(const std::string &name) {
  if (name.empty() || name.size() > 64) return false;
  auto is_alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!is_alnum(name.front())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return is_alnum(c) || c == '_' || c == '.' || c == '-'; });
}

}  // namespace hutch
