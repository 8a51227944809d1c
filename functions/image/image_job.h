// One run of an image function over a job's files: every file of HUTCH_IN is checked to be an image (by its
// bytes) before any work starts, then each is decoded, transformed, encoded in its own format and written
// to HUTCH_OUT under its own name. The result (fd 3) lists per file the format, the input and output
// geometry and the time spent; any failure is one sentence naming the file, and a non-zero exit.
#pragma once

#include <nlohmann/json.hpp>

#include "functions/image/image_ops.h"

namespace hutch::image {

struct ImageFunction {
  const char *name;
  Result<ImageOperation> (*parse)(const nlohmann::json &input);
};

// rgb2gray, clahe_equalization, resize_image: the names hutch::image_function_names() lists.
const ImageFunction *find_image_function(const std::string &name);

// Runs `function` on the job's files; returns the process exit code.
int run_image_function(const ImageFunction &function, const nlohmann::json &input);

}  // namespace hutch::image
