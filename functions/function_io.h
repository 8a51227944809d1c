// The function side of docs/protocol.md's function contract, shared by hutch-fn's built-ins and the test
// programs: input is JSON on stdin, the result is JSON on fd HUTCH_RESULT_FD (3). Run by hand, with no fd 3
// open, the result goes to stdout so the programs stay usable from a shell.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace hutch::fn {

// Exit code for input the function cannot use (bad JSON, wrong types, out of range).
inline constexpr int kExitBadInput = 2;

// Reads all of stdin and parses it. Empty input, or a terminal on stdin, is `null`.
Result<nlohmann::json> read_input();

// The fd named by HUTCH_RESULT_FD (3 when unset or not a number).
int result_fd();

// For a function that opens files: when the result fd is not open (run by hand), makes it a copy of stdout,
// so that no file the function opens can take that number and receive the result. Call it first in main.
void reserve_result_fd();

// Writes `result` as compact JSON to the result fd, or to stdout (with a newline) when that fd is not open.
Status write_result(const nlohmann::json &result);
// Writes `text` as given, for programs that must write something that is not JSON.
Status write_result_text(std::string_view text);

// A member of an object-or-null input: nullptr when the input is null or has no such member; an error when
// the input is neither null nor an object.
Result<const nlohmann::json *> find_field(const nlohmann::json &input, const char *key);

// A number member, `default_value` when absent or null; an error sentence naming the key, the value and the rule when
// it is not a number or is outside [min_value, max_value].
Result<double> number_field(const nlohmann::json &input, const char *key, double default_value, double min_value,
                            double max_value);

// A failed run, reported where a user looks: "<function>: <sentence>" on stderr (the job's logs) and
// {"error": "<sentence>"} on the result fd (the record's `output`, which hutchd keeps for a failed job too).
// Returns `exit_code` (non-zero) for main to return.
int report_failure(const std::string &function, const std::string &sentence, int exit_code);

// Compact JSON that never throws: invalid UTF-8 in strings is replaced.
std::string to_json_text(const nlohmann::json &value);
// A number for a sentence: "10", "2.5".
std::string format_number(double value);

}  // namespace hutch::fn
