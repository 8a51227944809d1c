// Printing log stream entries. A line the function wrote on stderr goes to our stderr and a stdout line to
// our stdout, so `hutch logs ID 2>/dev/null` shows what the function printed on stdout and nothing else.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/fields.h"
#include "cli/shown.h"

namespace hutch::cli {

// Prints each entry's line, prefixed with `prefix` (already shown as it should be), and moves `last_id` to
// the last entry seen. Escaped, a line keeps its tabs and shows every other control character as an escape.
// Stops at an `eof` entry and returns its value (the final status); none when the entries hold no eof.
std::optional<std::string> print_log_entries(const std::vector<StreamEntry> &entries, std::string_view prefix,
                                             std::string &last_id, Output output);

}  // namespace hutch::cli
