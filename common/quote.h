// How every sentence quotes a value it did not choose (a job field, a stored definition's field, a path
// from an archive): whoever wrote the value may have put a newline or an escape sequence in it, and the
// sentence ends up in a record, in hutchd's log and on an operator's terminal.
#pragma once

#include <string>

namespace hutch {

// 'value', printable ASCII kept, every other byte shown as \xNN, cut after 64 characters with "...".
std::string quote_value(const std::string &value);

// Whether `text` holds a control character (below 0x20, or 0x7f).
bool has_control_characters(const std::string &text);

}  // namespace hutch
