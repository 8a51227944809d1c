// Text that came from Redis, shown to a person: a line of hutchd's journal, a job's log on an operator's
// terminal. Whoever could write the key chose every byte, so a control character there must be shown, not
// obeyed: a newline would forge a journal line with its own time and level, an escape sequence would
// recolour, retitle or rewrite the operator's terminal. One function, used by hutchd's log and every printer
// of the CLI, so no caller can forget a case.
#pragma once

#include <string>
#include <string_view>

namespace hutch {

enum class Layout {
  kOneLine,    // a journal line, a table cell, a name: tab and newline are escaped too
  kMultiLine,  // a log line or a record value: tab and newline stay (the caller indents continuation lines)
};

// Printable text, UTF-8 included, is kept as it is. Shown as escapes instead:
//   C0 controls and DEL:   \n \r \t (see Layout), other ones as \x1b, \x7f, ...
//   C1 controls:           U+0080-U+009F as \u009b (terminals may read them as CSI and friends)
//   bidi and line breaks:  U+200E U+200F U+2028 U+2029 U+202A-U+202E U+2066-U+2069 as \u202e, ...
//   bytes that are not UTF-8: \xff
// A backslash is not doubled: `\x1b` in the output is either an escaped ESC or those four characters, and
// neither can act on a terminal.
std::string escape_control_characters(std::string_view text, Layout layout = Layout::kOneLine);

}  // namespace hutch
