#pragma once

namespace hutch::cli {

// The usage text: printed to stdout for --help, to stderr after a usage error.
extern const char kUsage[];

}  // namespace hutch::cli
