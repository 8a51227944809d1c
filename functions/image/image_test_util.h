// Helpers for the tests of hutch-image: run it the way hutchd will (input on stdin, result on fd 3,
// HUTCH_IN and HUTCH_OUT in the environment) and read images back with plain OpenCV calls.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "tests/support/hutch_test.h"

namespace hutch::image::test {

using hutch::test::hutch_image_path;

// tests/data/images of the repository, or HUTCH_TESTDATA when set.
std::string testdata_dir();
// The files of a directory, sorted.
std::vector<std::string> file_names(const std::string &directory);

struct ImageRun {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::string result_text;  // what fd 3 received
  nlohmann::json result;    // parsed, or null when it was not JSON
};

// Runs `hutch-image function` with `input` on stdin; an empty `in_dir` or `out_dir` leaves that variable
// unset. `program` replaces hutch-image (a link named after the function, or hutch-fn).
ImageRun run_image_function(const std::string &function, const std::string &input, const std::string &in_dir,
                       const std::string &out_dir, const std::string &program = "");

std::string read_bytes(const std::string &path);
void write_bytes(const std::string &path, const std::string &bytes);
// imread(path, IMREAD_UNCHANGED): the decoding hutch-image must reproduce.
cv::Mat read_unchanged(const std::string &path);
// What `image` looks like after a round trip through the encoder of `extension` (".jpg"): the expected
// output for a lossy format, given the reference pixels.
cv::Mat encode_decode(const cv::Mat &image, const std::string &extension);
// Largest absolute difference, or -1 when size or type differ (printed in assertion messages).
double max_difference(const cv::Mat &a, const cv::Mat &b);
std::string describe(const cv::Mat &image);

}  // namespace hutch::image::test
