// The names the built-in programs answer to: the one list that hutch-fn and hutch-image (which run in
// sandboxes) and the host-side registry (catalog/registry.h) share. Nothing else lives here, so the
// sandbox programs link nothing of the host side.
#pragma once

#include <string>
#include <vector>

namespace hutch {

// The built-in names hutch-fn answers to, in the order `hutch-fn --list` prints them.
const std::vector<std::string> &builtin_function_names();
// The built-in names hutch-image answers to, in the order `hutch-image --list` prints them.
const std::vector<std::string> &image_function_names();

// A valid function name: 1-64 of [A-Za-z0-9_.-], starting with a letter or digit.
bool is_valid_function_name(const std::string &name);

}  // namespace hutch
