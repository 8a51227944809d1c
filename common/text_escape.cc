#include "common/text_escape.h"

#include <cstdint>
#include <cstdio>
#include <optional>

namespace hutch {
namespace {

struct CodePoint {
  uint32_t value;
  size_t bytes;
};

// One well-formed UTF-8 sequence at `text[at]`: no overlong forms, no surrogates, nothing past U+10FFFF.
std::optional<CodePoint> decode_utf8(std::string_view text, size_t at) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[at + i]); };
  unsigned char lead = byte(0);
  size_t length = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 0;
  if (length == 0 || at + length > text.size()) return std::nullopt;
  if (length == 1) return CodePoint{lead, 1};
  uint32_t value = lead & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return std::nullopt;
    value = (value << 6) | (byte(i) & 0x3F);
  }
  static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (value < kSmallest[length] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return std::nullopt;
  return CodePoint{value, length};
}

// Characters that move the cursor or reorder what follows without being C0 or C1 controls.
bool is_invisible_control(uint32_t value) {
  return (value >= 0x80 && value <= 0x9F) || value == 0x200E || value == 0x200F || value == 0x2028 ||
         value == 0x2029 || (value >= 0x202A && value <= 0x202E) || (value >= 0x2066 && value <= 0x2069);
}

void append_hex(std::string &out, const char *format, uint32_t value) {
  char escaped[12];
  std::snprintf(escaped, sizeof escaped, format, value);
  out += escaped;
}

}  // namespace

std::string escape_control_characters(std::string_view text, Layout layout) {
  std::string out;
  out.reserve(text.size());
  for (size_t at = 0; at < text.size();) {
    auto c = static_cast<unsigned char>(text[at]);
    if (c >= 0x20 && c < 0x7F) {  // the common case: printable ASCII
      out.push_back(static_cast<char>(c));
      ++at;
      continue;
    }
    if (c < 0x20 || c == 0x7F) {
      bool keep = layout == Layout::kMultiLine && (c == '\t' || c == '\n');
      if (keep) out.push_back(static_cast<char>(c));
      else if (c == '\n') out += "\\n";
      else if (c == '\r') out += "\\r";
      else if (c == '\t') out += "\\t";
      else append_hex(out, "\\x%02x", c);
      ++at;
      continue;
    }
    std::optional<CodePoint> point = decode_utf8(text, at);
    if (!point) {
      append_hex(out, "\\x%02x", c);
      ++at;
      continue;
    }
    if (is_invisible_control(point->value)) append_hex(out, "\\u%04x", point->value);
    else out.append(text.substr(at, point->bytes));
    at += point->bytes;
  }
  return out;
}

}  // namespace hutch
