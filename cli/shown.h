// What the CLI prints of Redis' data goes through shown(): a job's log lines, a record's values, function and
// package fields were written by whoever could write those keys, and a terminal obeys the escape sequences in
// them. Escaped by default (docs/protocol.md, "CLI"); --raw prints them byte for byte, for pipes that need
// the exact bytes.
#pragma once

#include <string>
#include <string_view>

#include "common/text_escape.h"

namespace hutch::cli {

enum class Output { kEscaped, kRaw };

inline Output output_for(bool raw) { return raw ? Output::kRaw : Output::kEscaped; }

inline std::string shown(std::string_view text, Output output, Layout layout = Layout::kOneLine) {
  return output == Output::kRaw ? std::string(text) : escape_control_characters(text, layout);
}

}  // namespace hutch::cli
