// Parameters of the test programs, on top of functions/function_io.h. These programs misbehave on purpose,
// so every parameter has a cap: a limit that fails to hold must fail a test, not take the machine down.
// Wrong types and values below the minimum exit 2 with a sentence; values above the cap are lowered to it,
// with a note on stderr.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "functions/function_io.h"

namespace hutch::programs {

[[noreturn]] inline void exit_bad_input(const char *program, const std::string &sentence) {
  std::fprintf(stderr, "%s: %s\n", program, sentence.c_str());
  std::exit(fn::kExitBadInput);
}

inline nlohmann::json input_or_exit(const char *program) {
  auto input = fn::read_input();
  if (!input) exit_bad_input(program, input.error().message);
  if (!input->is_null() && !input->is_object()) {
    exit_bad_input(program, std::string("input must be a JSON object or null, not ") + input->type_name());
  }
  return *input;
}

// The member, or nullptr when absent or null.
inline const nlohmann::json *field_or_null(const nlohmann::json &input, const char *key) {
  if (!input.is_object()) return nullptr;
  auto found = input.find(key);
  if (found == input.end() || found->is_null()) return nullptr;
  return &*found;
}

inline double number_param(const char *program, const nlohmann::json &input, const char *key,
                           double default_value, double min_value, double cap) {
  const nlohmann::json *field = field_or_null(input, key);
  if (field == nullptr) return default_value;
  if (!field->is_number() || field->get<double>() < min_value) {
    exit_bad_input(program, std::string(key) + ": " + fn::to_json_text(*field).substr(0, 64) +
                                " is not valid; use a number >= " + fn::format_number(min_value));
  }
  double value = field->get<double>();
  if (value > cap) {
    std::fprintf(stderr, "%s: %s %s is above the cap; using %s\n", program, key, fn::format_number(value).c_str(),
                 fn::format_number(cap).c_str());
    value = cap;
  }
  return value;
}

inline long long integer_param(const char *program, const nlohmann::json &input, const char *key,
                               long long default_value, long long min_value, long long cap) {
  const nlohmann::json *field = field_or_null(input, key);
  if (field != nullptr && (!field->is_number() || field->get<double>() != std::trunc(field->get<double>()))) {
    exit_bad_input(program, std::string(key) + ": " + fn::to_json_text(*field).substr(0, 64) +
                                " is not an integer; use a whole number >= " + std::to_string(min_value));
  }
  return std::llround(number_param(program, input, key, static_cast<double>(default_value),
                                   static_cast<double>(min_value), static_cast<double>(cap)));
}

inline bool bool_param(const char *program, const nlohmann::json &input, const char *key, bool default_value) {
  const nlohmann::json *field = field_or_null(input, key);
  if (field == nullptr) return default_value;
  if (!field->is_boolean()) exit_bad_input(program, std::string(key) + ": use true or false");
  return field->get<bool>();
}

inline std::string string_param(const char *program, const nlohmann::json &input, const char *key,
                                const std::string &default_value) {
  const nlohmann::json *field = field_or_null(input, key);
  if (field == nullptr) return default_value;
  if (!field->is_string()) exit_bad_input(program, std::string(key) + ": use a string");
  return field->get<std::string>();
}

inline void write_result_or_exit(const char *program, const nlohmann::json &result) {
  if (auto written = fn::write_result(result); !written) {
    std::fprintf(stderr, "%s: %s\n", program, written.error().message.c_str());
    std::exit(1);
  }
}

}  // namespace hutch::programs
