// The built-in functions of the multi-call binary hutch-fn. Each gets the parsed input and returns the
// process exit code; it writes its own stdout lines and result.
#pragma once

#include <nlohmann/json.hpp>

namespace hutch::fn {

int run_hello(const nlohmann::json &input);
int run_sleep(const nlohmann::json &input);

}  // namespace hutch::fn
