// Reading the image functions' parameters from the job input: an object (or null, meaning every default).
// Every rejection is one sentence naming the field, the value as given and what is allowed, e.g.
//   clip_limit: 0 is out of range; use a number > 0 and <= 1000
#pragma once

#include <initializer_list>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace hutch::image {

// Fails for an input that is neither null nor an object, and for a member not in `fields`, listing them.
Status check_fields(const nlohmann::json &input, const std::string &function,
                    std::initializer_list<const char *> fields);

// True when the input has the member and it is not null.
bool has_field(const nlohmann::json &input, const char *key);

// A number in (0, max_value]; `default_value` when absent or null.
Result<double> positive_number_field(const nlohmann::json &input, const char *key, double default_value,
                                     double max_value);
// A whole number in [min_value, max_value]; `default_value` when absent or null.
Result<int> whole_number_field(const nlohmann::json &input, const char *key, int default_value, int min_value,
                               int max_value);
Result<bool> bool_field(const nlohmann::json &input, const char *key, bool default_value);
// A grid as a whole number n (n x n) or a pair [columns, rows], each in [1, max_cells].
Result<std::pair<int, int>> grid_field(const nlohmann::json &input, const char *key, int default_cells,
                                       int max_cells);

}  // namespace hutch::image
