// Reading a record's values the way docs/protocol.md writes them: UTC times with milliseconds, decimals,
// stream ids. Each parser is strict and returns nullopt for anything else, so a test asserting on a parsed
// value also asserts on its format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/redis_client.h"

namespace hutch::test {

// "2026-11-21T23:30:47.123Z" -> ms since the epoch. nullopt unless exactly that shape.
std::optional<int64_t> parse_utc_milliseconds(const std::string &text);
// "5", "2.5", "0.123": plain decimals only. nullopt for "", "abc", "1e3", "inf".
std::optional<double> parse_decimal_text(const std::string &text);
// "1700000000000-3" -> 1700000000000.
std::optional<int64_t> stream_id_milliseconds(const std::string &id);
// A non-negative integer in decimal ("0", "67108864").
std::optional<uint64_t> parse_unsigned_text(const std::string &text);

// The value of `field` in `record`, or "" when absent.
std::string field_or_empty(const Fields &record, const std::string &field);

// Every execution id in `text` ("1700000000000-0").
std::vector<std::string> execution_ids_in(const std::string &text);

}  // namespace hutch::test
