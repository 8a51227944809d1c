#include "functions/image/image_params.h"

#include <cmath>

#include "functions/function_io.h"

namespace hutch::image {
namespace {

// The value as given, for sentences: its JSON text, at most 64 characters.
std::string quote(const nlohmann::json &value) {
  std::string text = fn::to_json_text(value);
  return text.size() > 64 ? text.substr(0, 61) + "..." : text;
}

bool is_whole(const nlohmann::json &value) {
  if (value.is_number_integer()) return true;
  if (!value.is_number_float()) return false;
  double number = value.get<double>();
  return std::isfinite(number) && number == std::trunc(number);
}

// The member, or nullptr when the input is null, lacks it, or holds null there. check_fields ran first, so
// the input is null or an object.
const nlohmann::json *field_or_null(const nlohmann::json &input, const char *key) {
  if (!input.is_object()) return nullptr;
  auto found = input.find(key);
  if (found == input.end() || found->is_null()) return nullptr;
  return &*found;
}

Result<int> whole_in_range(const nlohmann::json &value, const std::string &what, int min_value, int max_value) {
  std::string rule = "use a whole number from " + std::to_string(min_value) + " to " + std::to_string(max_value);
  if (!is_whole(value)) return fail(make_error(what + ": " + quote(value) + " is not a whole number; " + rule));
  double number = value.get<double>();
  if (number < min_value || number > max_value) {
    return fail(make_error(what + ": " + quote(value) + " is out of range; " + rule));
  }
  return static_cast<int>(number);
}

}  // namespace

Status check_fields(const nlohmann::json &input, const std::string &function,
                    std::initializer_list<const char *> fields) {
  if (input.is_null()) return {};
  if (!input.is_object()) {
    return fail(make_error("input must be a JSON object or null, not " + std::string(input.type_name())));
  }
  for (const auto &[key, value] : input.items()) {
    bool known = false;
    for (const char *field : fields) known = known || key == field;
    if (known) continue;
    std::string list;
    size_t index = 0;
    for (const char *field : fields) {
      list += index == 0 ? "" : index + 1 == fields.size() ? " and " : ", ";
      list += field;
      ++index;
    }
    return fail(make_error("unknown field " + quote(nlohmann::json(key)) + "; " + function + " takes " + list));
  }
  return {};
}

bool has_field(const nlohmann::json &input, const char *key) { return field_or_null(input, key) != nullptr; }

Result<double> positive_number_field(const nlohmann::json &input, const char *key, double default_value,
                                     double max_value) {
  const nlohmann::json *field = field_or_null(input, key);
  if (field == nullptr) return default_value;
  std::string rule = "use a number > 0 and <= " + fn::format_number(max_value);
  if (!field->is_number()) {
    return fail(make_error(std::string(key) + ": " + quote(*field) + " is not a number; " + rule));
  }
  double value = field->get<double>();
  if (!std::isfinite(value) || value <= 0 || value > max_value) {
    return fail(make_error(std::string(key) + ": " + quote(*field) + " is out of range; " + rule));
  }
  return value;
}

Result<int> whole_number_field(const nlohmann::json &input, const char *key, int default_value, int min_value,
                               int max_value) {
  const nlohmann::json *field = field_or_null(input, key);
  if (field == nullptr) return default_value;
  return whole_in_range(*field, key, min_value, max_value);
}

Result<bool> bool_field(const nlohmann::json &input, const char *key, bool default_value) {
  const nlohmann::json *field = field_or_null(input, key);
  if (field == nullptr) return default_value;
  if (!field->is_boolean()) {
    return fail(make_error(std::string(key) + ": " + quote(*field) + " is not a boolean; use true or false"));
  }
  return field->get<bool>();
}

Result<std::pair<int, int>> grid_field(const nlohmann::json &input, const char *key, int default_cells,
                                       int max_cells) {
  const nlohmann::json *field = field_or_null(input, key);
  if (field == nullptr) return std::pair{default_cells, default_cells};
  if (field->is_array()) {
    if (field->size() != 2) {
      return fail(make_error(std::string(key) + ": " + quote(*field) +
                             " is not a pair; use [columns, rows], e.g. [8, 8], or one number for both"));
    }
    int columns = 0;
    int rows = 0;
    TRY_ASSIGN(columns, whole_in_range((*field)[0], std::string(key) + " columns", 1, max_cells));
    TRY_ASSIGN(rows, whole_in_range((*field)[1], std::string(key) + " rows", 1, max_cells));
    return std::pair{columns, rows};
  }
  if (field->is_number()) {
    int cells = 0;
    TRY_ASSIGN(cells, whole_in_range(*field, key, 1, max_cells));
    return std::pair{cells, cells};
  }
  return fail(make_error(std::string(key) + ": " + quote(*field) + " is neither a number nor a pair; use e.g. 8 or "
                         "[8, 8] (columns, rows), each from 1 to " + std::to_string(max_cells)));
}

}  // namespace hutch::image
