// A package of several functions (a module): `hutch.toml` or `hutch.json` at the package's top names them,
// with one shared code base and entry point, and each function's own description and defaults.
//
//   name = "image-processing"          # the package; its functions are called "<name>.<function>"
//   entry = "python3 main.py"          # run for every function; $HUTCH_FUNCTION says which one
//   description = "..."
//   [functions.rgb2gray]
//   description = "every image to grayscale"
//   timeout = 10                       # optional defaults, with the job fields' rules
//   memory = "512M"
//   cpu = 1
//   entry = "python3 gray.py"          # optional: this function's own entry
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace hutch {

struct ManifestFunction {
  std::string name;
  std::string description;
  std::string entry;  // the package's, unless the function has its own
  std::optional<std::string> timeout, memory, cpu;
};

struct Manifest {
  std::string name;
  std::string description;
  std::vector<ManifestFunction> functions;
};

// `file_name` ("hutch.toml" or "hutch.json") picks the format; errors name the file and the field.
Result<Manifest> parse_manifest(const std::string &file_name, const std::string &text);

}  // namespace hutch
