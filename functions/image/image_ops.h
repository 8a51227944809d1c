// The three built-in image operations, as OpenCV calls on decoded images, and their parameters as read
// from the job input. Decoding, encoding and files are image_job.cc's; these only turn pixels into pixels,
// so the benchmark can time them alone. Every operation keeps the input's depth (8 or 16 bits per channel).
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "common/error.h"

namespace hutch::image {

// rgb2gray: colour to gray with OpenCV's BGR2GRAY weights. One channel in: the image as it is. Four in:
// keep_alpha (default) gives gray in B, G and R plus the untouched alpha, because no codec here writes
// gray+alpha (PNG's GA included: OpenCV encodes 1, 3 or 4 channels); keep_alpha false gives one channel.
cv::Mat to_gray(const cv::Mat &image, bool keep_alpha);

// clahe_equalization: CLAHE on the L channel in LAB colour space, alpha untouched. One-channel images get
// CLAHE directly (8- and 16-bit). 16-bit colour goes through float LAB because cvtColor has no 16-bit LAB:
// L (0-100) is scaled to 0-65535 for CLAHE and back, so the result stays 16-bit.
cv::Mat clahe_lab(const cv::Mat &image, double clip_limit, cv::Size tile_grid);

struct ResizeSpec {
  double scale = 0.25;  // used when neither max is set
  int max_width = 0;    // 0: no limit
  int max_height = 0;
};
// The size resize_image produces: never larger than the input on either side.
cv::Size thumbnail_size(cv::Size input, const ResizeSpec &spec);
// resize_image: INTER_AREA (shrinking only); the input itself when the size would not change.
cv::Mat thumbnail(const cv::Mat &image, const ResizeSpec &spec);

// A function's parameters read from its input, and the operation they configure.
struct ImageOperation {
  nlohmann::json parameters;                       // the values in force, echoed in the result
  std::function<cv::Mat(const cv::Mat &)> apply;  // may throw cv::Exception
};

Result<ImageOperation> parse_rgb2gray(const nlohmann::json &input);
Result<ImageOperation> parse_clahe(const nlohmann::json &input);
Result<ImageOperation> parse_resize(const nlohmann::json &input);

}  // namespace hutch::image
