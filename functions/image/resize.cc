// resize_image: a thumbnail. By default each side is scaled by 0.25 (the Qinling cookbook's quarter
// thumbnail); with max_width and/or max_height the image is fitted inside that box, keeping its aspect
// ratio. Never upscales: a thumbnail larger than its source is not a thumbnail, and an image already inside
// the box comes back at its own size. INTER_AREA because every change is a shrink, where it averages
// instead of skipping pixels (no moire).
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdint>

#include "functions/image/image_ops.h"
#include "functions/image/image_params.h"

namespace hutch::image {
namespace {

constexpr int kMaxSide = 1 << 20;

// a * b / c rounded half up, at least 1, in 64 bits so sides up to kMaxSide cannot overflow.
int scaled_side(int64_t a, int64_t b, int64_t c) { return static_cast<int>(std::max<int64_t>(1, (2 * a * b + c) / (2 * c))); }

// OpenCV's own rounding of `side * scale` (cvRound, as cv::resize does for fx/fy).
int scale_side(int side, double scale) { return std::max(1, cvRound(side * scale)); }

}  // namespace

cv::Size thumbnail_size(cv::Size input, const ResizeSpec &spec) {
  if (spec.max_width == 0 && spec.max_height == 0) {
    return {scale_side(input.width, spec.scale), scale_side(input.height, spec.scale)};
  }
  int64_t width = input.width;
  int64_t height = input.height;
  // An absent limit is no limit: the other side decides.
  int64_t box_width = spec.max_width > 0 ? spec.max_width : INT64_MAX / 4;
  int64_t box_height = spec.max_height > 0 ? spec.max_height : INT64_MAX / 4;
  if (width <= box_width && height <= box_height) return input;
  // Width decides when width/box_width >= height/box_height, compared as products to stay exact.
  bool width_decides = spec.max_height == 0 || (spec.max_width > 0 && width * box_height >= height * box_width);
  if (width_decides) return {static_cast<int>(box_width), scaled_side(height, box_width, width)};
  return {scaled_side(width, box_height, height), static_cast<int>(box_height)};
}

cv::Mat thumbnail(const cv::Mat &image, const ResizeSpec &spec) {
  cv::Size size = thumbnail_size(image.size(), spec);
  if (size == image.size()) return image;
  cv::Mat out;
  bool plain_scale = spec.max_width == 0 && spec.max_height == 0;
  if (plain_scale && cvRound(image.cols * spec.scale) >= 1 && cvRound(image.rows * spec.scale) >= 1) {
    // The fx/fy form, not the size: with a size OpenCV derives the factor from it (358/1430 rather than
    // 0.25) and takes another path through INTER_AREA, so the pixels would differ from resize(fx=0.25).
    cv::resize(image, out, cv::Size(), spec.scale, spec.scale, cv::INTER_AREA);
  } else {
    cv::resize(image, out, size, 0, 0, cv::INTER_AREA);
  }
  return out;
}

Result<ImageOperation> parse_resize(const nlohmann::json &input) {
  TRY_STATUS(check_fields(input, "resize_image", {"scale", "max_width", "max_height", "threads"}));
  ResizeSpec spec;
  bool has_box = has_field(input, "max_width") || has_field(input, "max_height");
  if (has_box && has_field(input, "scale")) {
    return fail(make_error("scale and max_width/max_height were both given; give either scale or a box "
                           "(max_width, max_height or both), not both"));
  }
  TRY_ASSIGN(spec.scale, positive_number_field(input, "scale", 0.25, 1.0));
  TRY_ASSIGN(spec.max_width, whole_number_field(input, "max_width", 0, 1, kMaxSide));
  TRY_ASSIGN(spec.max_height, whole_number_field(input, "max_height", 0, 1, kMaxSide));
  nlohmann::json parameters = nlohmann::json::object();
  if (!has_box) parameters["scale"] = spec.scale;
  if (spec.max_width > 0) parameters["max_width"] = spec.max_width;
  if (spec.max_height > 0) parameters["max_height"] = spec.max_height;
  return ImageOperation{
      .parameters = parameters,
      .apply = [spec](const cv::Mat &image) { return thumbnail(image, spec); },
  };
}

}  // namespace hutch::image
