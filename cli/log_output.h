// Printing log stream entries. A line the function wrote on stderr goes to our stderr and a stdout line to
// our stdout, so `hutch logs ID 2>/dev/null` shows what the function printed on stdout and nothing else.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/fields.h"

namespace hutch::cli {

// Prints each entry's line, prefixed with `prefix`, and moves `last_id` to the last entry seen. Stops at an
// `eof` entry and returns its value (the final status); none when the entries hold no eof.
std::optional<std::string> print_log_entries(const std::vector<StreamEntry> &entries, std::string_view prefix,
                                             std::string &last_id);

}  // namespace hutch::cli
