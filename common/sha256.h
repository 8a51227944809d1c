// SHA-256 as lowercase hex, through OpenSSL's libcrypto: content addresses for uploaded files (and, later,
// function packages).
#pragma once

#include <string>
#include <string_view>

namespace hutch {

std::string sha256_hex(std::string_view data);

}  // namespace hutch
