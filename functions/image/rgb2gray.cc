// rgb2gray: every input image to grayscale (functions/image/image_ops.h has the alpha rule).
#include <opencv2/imgproc.hpp>

#include "functions/image/image_ops.h"
#include "functions/image/image_params.h"

namespace hutch::image {

cv::Mat to_gray(const cv::Mat &image, bool keep_alpha) {
  if (image.channels() == 1) return image;
  cv::Mat gray;
  cv::cvtColor(image, gray, image.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  if (image.channels() != 4 || !keep_alpha) return gray;
  cv::Mat alpha;
  cv::extractChannel(image, alpha, 3);
  cv::Mat gray_with_alpha;
  cv::merge(std::vector<cv::Mat>{gray, gray, gray, alpha}, gray_with_alpha);
  return gray_with_alpha;
}

Result<ImageOperation> parse_rgb2gray(const nlohmann::json &input) {
  TRY_STATUS(check_fields(input, "rgb2gray", {"keep_alpha", "threads"}));
  bool keep_alpha = true;
  TRY_ASSIGN(keep_alpha, bool_field(input, "keep_alpha", true));
  return ImageOperation{
      .parameters = {{"keep_alpha", keep_alpha}},
      .apply = [keep_alpha](const cv::Mat &image) { return to_gray(image, keep_alpha); },
  };
}

}  // namespace hutch::image
