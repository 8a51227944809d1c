// SHA-256 as lowercase hex, through OpenSSL's libcrypto: content addresses for uploaded files (and, later,
// function packages).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace hutch {

std::string sha256_hex(std::string_view data);

// Exactly 64 lowercase hex digits, the form sha256_hex gives: the only checksums hutch accepts from Redis.
inline bool is_sha256_hex(std::string_view text) {
  return text.size() == 64 &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace hutch
