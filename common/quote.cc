#include "common/quote.h"

#include <algorithm>
#include <cstdio>

namespace hutch {

std::string quote_value(const std::string &value) {
  std::string out = "'";
  size_t shown = 0;
  for (unsigned char c : value) {
    if (shown == 64) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      char escaped[8];
      snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    }
    ++shown;
  }
  return out + "'";
}

bool has_control_characters(const std::string &text) {
  return std::any_of(text.begin(), text.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

}  // namespace hutch
