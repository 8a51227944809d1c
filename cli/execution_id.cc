#include "cli/execution_id.h"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace hutch::cli {
namespace {

std::optional<uint64_t> parse_decimal(std::string_view text) {
  uint64_t value = 0;
  if (text.empty() || text.front() == '+') return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<StreamId> parse_stream_id(std::string_view text) {
  auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto milliseconds = parse_decimal(text.substr(0, dash));
  auto sequence = parse_decimal(text.substr(dash + 1));
  if (!milliseconds || !sequence) return std::nullopt;
  return StreamId{*milliseconds, *sequence};
}

std::string iso_time_from_milliseconds(uint64_t milliseconds) {
  std::time_t seconds = static_cast<std::time_t>(milliseconds / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(milliseconds % 1000));
  return text;
}

}  // namespace hutch::cli
