// The tests' expected results, written as the plain OpenCV calls a user would make (the Dataloop tutorial's
// CLAHE, cv::resize with INTER_AREA, cvtColor to gray), independent of hutch-image's own code.
#pragma once

#include <opencv2/core.hpp>

namespace hutch::image::test {

cv::Mat reference_gray(const cv::Mat &image, bool keep_alpha = true);
cv::Mat reference_clahe(const cv::Mat &image, double clip_limit = 2.0, cv::Size tiles = {8, 8});
cv::Mat reference_resize(const cv::Mat &image, double scale = 0.25);

}  // namespace hutch::image::test
