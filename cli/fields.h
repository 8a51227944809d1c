// Field lists as Redis returns them: a hash from HGETALL, the body of a stream entry. Kept in Redis' order
// (a vector, not a map) because the order of a stream entry's fields is part of what it says.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hutch::cli {

using FieldList = std::vector<std::pair<std::string, std::string>>;

struct StreamEntry {
  std::string id;
  FieldList fields;
};

inline std::optional<std::string> field_value(const FieldList &fields, std::string_view name) {
  for (const auto &[field, value] : fields)
    if (field == name) return value;
  return std::nullopt;
}

}  // namespace hutch::cli
