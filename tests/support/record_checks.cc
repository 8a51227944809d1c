#include "tests/support/record_checks.h"

#include <charconv>
#include <ctime>
#include <regex>


namespace hutch::test {

std::optional<int64_t> parse_utc_milliseconds(const std::string &text) {
  static const std::regex shape(R"((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z)");
  std::smatch match;
  if (!std::regex_match(text, match, shape)) return std::nullopt;
  std::tm parts{};
  parts.tm_year = std::stoi(match[1]) - 1900;
  parts.tm_mon = std::stoi(match[2]) - 1;
  parts.tm_mday = std::stoi(match[3]);
  parts.tm_hour = std::stoi(match[4]);
  parts.tm_min = std::stoi(match[5]);
  parts.tm_sec = std::stoi(match[6]);
  if (parts.tm_mon > 11 || parts.tm_mday < 1 || parts.tm_mday > 31 || parts.tm_hour > 23 || parts.tm_min > 59 ||
      parts.tm_sec > 60)
    return std::nullopt;
  return static_cast<int64_t>(::timegm(&parts)) * 1000 + std::stoi(match[7]);
}

std::optional<double> parse_decimal_text(const std::string &text) {
  static const std::regex shape(R"(-?\d+(\.\d+)?)");
  if (!std::regex_match(text, shape)) return std::nullopt;
  return std::stod(text);
}

std::optional<int64_t> stream_id_milliseconds(const std::string &id) {
  static const std::regex shape(R"((\d+)-\d+)");
  std::smatch match;
  if (!std::regex_match(id, match, shape)) return std::nullopt;
  return std::stoll(match[1]);
}

std::optional<uint64_t> parse_unsigned_text(const std::string &text) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string field_or_empty(const Fields &record, const std::string &field) {
  auto found = record.find(field);
  return found == record.end() ? "" : found->second;
}

std::vector<std::string> execution_ids_in(const std::string &text) {
  static const std::regex id_shape(R"(\b\d{10,}-\d+\b)");
  std::vector<std::string> ids;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), id_shape); it != std::sregex_iterator(); ++it)
    ids.push_back(it->str());
  return ids;
}

}  // namespace hutch::test
