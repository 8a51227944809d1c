// Execution ids are stream entry ids, `<milliseconds>-<sequence>`. Checking the shape here keeps ids like
// `abc` away from XRANGE, whose "Invalid stream ID" error would otherwise reach the user.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hutch::cli {

struct StreamId {
  uint64_t milliseconds = 0;
  uint64_t sequence = 0;
  auto operator<=>(const StreamId &) const = default;
};

// Only the full `<ms>-<seq>` form: XADD prints it that way, and `5` alone would match a range in XRANGE.
std::optional<StreamId> parse_stream_id(std::string_view text);

// "2026-11-21T23:30:47.123Z", the protocol's time format.
std::string iso_time_from_milliseconds(uint64_t milliseconds);

}  // namespace hutch::cli
