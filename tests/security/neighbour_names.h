// What neighbour (the victim) and spy_on_neighbour (the attacker) must agree on: the tag from the input, the
// name of the victim's files and of its abstract unix socket.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>

#include "tests/programs/program_input.h"

namespace hutch::attack {

// {"tag": T}: 1 to 32 characters without '/', or the program exits with a sentence.
inline std::string neighbour_tag_or_exit(const char *program, const nlohmann::json &input) {
  std::string tag = hutch::programs::string_param(program, input, "tag", "");
  if (tag.empty() || tag.size() > 32 || tag.find('/') != std::string::npos)
    hutch::programs::exit_bad_input(program, "tag: use 1 to 32 characters without '/'");
  return tag;
}

inline std::string neighbour_name(const std::string &tag) {
  return "hutch-neighbour-" + tag;
}

// The abstract unix socket address of `name` (sun_path starts with a 0 byte; no file is made).
struct AbstractAddress {
  sockaddr_un address{};
  socklen_t length = 0;
};

inline AbstractAddress abstract_address(const std::string &name) {
  AbstractAddress result;
  result.address.sun_family = AF_UNIX;
  size_t size = std::min(name.size(), sizeof result.address.sun_path - 1);
  std::memcpy(result.address.sun_path + 1, name.data(), size);
  result.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + size);
  return result;
}

}  // namespace hutch::attack
