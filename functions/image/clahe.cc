// clahe_equalization: CLAHE on the L channel in LAB colour space, as the Dataloop tutorial does it
// (createCLAHE(clipLimit=2.0, tileGridSize=(8,8)) on L, then back to BGR). Alpha is set aside and put back
// untouched: equalising transparency would change which pixels show.
#include <opencv2/imgproc.hpp>

#include "functions/image/image_ops.h"
#include "functions/image/image_params.h"

namespace hutch::image {
namespace {

// 16-bit CLAHE builds a 65536-entry table per tile, 128 KiB each: 32 x 32 tiles are 128 MiB already.
constexpr int kMaxTilesPerSide = 32;
constexpr double kMaxClipLimit = 1000;
// L of float LAB runs 0-100; this maps it onto the whole 16-bit range and back.
constexpr double kLightnessTo16Bit = 65535.0 / 100.0;

cv::Mat clahe_on_lightness(const cv::Mat &bgr, cv::CLAHE &clahe) {
  if (bgr.depth() == CV_8U) {
    cv::Mat lab;
    cv::cvtColor(bgr, lab, cv::COLOR_BGR2Lab);  // 8-bit LAB: L scaled to 0-255
    std::vector<cv::Mat> planes;
    cv::split(lab, planes);
    clahe.apply(planes[0], planes[0]);
    cv::merge(planes, lab);
    cv::Mat out;
    cv::cvtColor(lab, out, cv::COLOR_Lab2BGR);
    return out;
  }
  cv::Mat unit;
  bgr.convertTo(unit, CV_32F, 1.0 / 65535.0);
  cv::Mat lab;
  cv::cvtColor(unit, lab, cv::COLOR_BGR2Lab);
  std::vector<cv::Mat> planes;
  cv::split(lab, planes);
  cv::Mat lightness;
  planes[0].convertTo(lightness, CV_16U, kLightnessTo16Bit);
  clahe.apply(lightness, lightness);
  lightness.convertTo(planes[0], CV_32F, 1.0 / kLightnessTo16Bit);
  cv::merge(planes, lab);
  cv::cvtColor(lab, unit, cv::COLOR_Lab2BGR);
  cv::Mat out;
  unit.convertTo(out, CV_16U, 65535.0);
  return out;
}

}  // namespace

cv::Mat clahe_lab(const cv::Mat &image, double clip_limit, cv::Size tile_grid) {
  cv::Ptr<cv::CLAHE> clahe = cv::createCLAHE(clip_limit, tile_grid);
  if (image.channels() == 1) {
    cv::Mat out;
    clahe->apply(image, out);
    return out;
  }
  if (image.channels() == 3) return clahe_on_lightness(image, *clahe);
  cv::Mat bgr;
  cv::Mat alpha;
  cv::cvtColor(image, bgr, cv::COLOR_BGRA2BGR);
  cv::extractChannel(image, alpha, 3);
  std::vector<cv::Mat> planes;
  cv::split(clahe_on_lightness(bgr, *clahe), planes);
  planes.push_back(alpha);
  cv::Mat out;
  cv::merge(planes, out);
  return out;
}

Result<ImageOperation> parse_clahe(const nlohmann::json &input) {
  TRY_STATUS(check_fields(input, "clahe_equalization", {"clip_limit", "tile_grid_size", "threads"}));
  double clip_limit = 0;
  TRY_ASSIGN(clip_limit, positive_number_field(input, "clip_limit", 2.0, kMaxClipLimit));
  std::pair<int, int> grid;
  TRY_ASSIGN(grid, grid_field(input, "tile_grid_size", 8, kMaxTilesPerSide));
  cv::Size tiles(grid.first, grid.second);
  return ImageOperation{
      .parameters = {{"clip_limit", clip_limit}, {"tile_grid_size", {tiles.width, tiles.height}}},
      .apply = [clip_limit, tiles](const cv::Mat &image) { return clahe_lab(image, clip_limit, tiles); },
  };
}

}  // namespace hutch::image
