#include "functions/image/image_reference.h"

#include <opencv2/imgproc.hpp>

namespace hutch::image::test {
namespace {

// Colour and alpha apart, with mixChannels rather than the split/cvtColor calls hutch-image uses.
cv::Mat colour_of(const cv::Mat &image) {
  if (image.channels() == 3) return image;
  cv::Mat colour(image.size(), CV_MAKETYPE(image.depth(), 3));
  int from_to[] = {0, 0, 1, 1, 2, 2};
  cv::mixChannels(&image, 1, &colour, 1, from_to, 3);
  return colour;
}

cv::Mat alpha_of(const cv::Mat &image) {
  cv::Mat alpha(image.size(), CV_MAKETYPE(image.depth(), 1));
  int from_to[] = {3, 0};
  cv::mixChannels(&image, 1, &alpha, 1, from_to, 1);
  return alpha;
}

cv::Mat with_alpha(const cv::Mat &colour, const cv::Mat &alpha) {
  cv::Mat out(colour.size(), CV_MAKETYPE(colour.depth(), 4));
  const cv::Mat sources[] = {colour, alpha};
  int from_to[] = {0, 0, 1, 1, 2, 2, 3, 3};
  cv::mixChannels(sources, 2, &out, 1, from_to, 4);
  return out;
}

// The Dataloop tutorial, step by step: BGR -> LAB, CLAHE on L, merge, LAB -> BGR.
cv::Mat clahe_8bit_colour(const cv::Mat &bgr, double clip_limit, cv::Size tiles) {
  cv::Mat lab;
  cv::cvtColor(bgr, lab, cv::COLOR_BGR2Lab);
  cv::Mat planes[3];  // l, a, b
  cv::split(lab, planes);
  cv::Mat equalised;
  cv::createCLAHE(clip_limit, tiles)->apply(planes[0], equalised);
  cv::Mat merged;
  cv::merge(std::vector<cv::Mat>{equalised, planes[1], planes[2]}, merged);
  cv::Mat out;
  cv::cvtColor(merged, out, cv::COLOR_Lab2BGR);
  return out;
}

// The documented 16-bit route: float LAB, L stretched to 0-65535 for a 16-bit CLAHE, and back.
cv::Mat clahe_16bit_colour(const cv::Mat &bgr, double clip_limit, cv::Size tiles) {
  cv::Mat unit;
  bgr.convertTo(unit, CV_32F, 1.0 / 65535);
  cv::Mat lab;
  cv::cvtColor(unit, lab, cv::COLOR_BGR2Lab);
  std::vector<cv::Mat> planes;
  cv::split(lab, planes);
  cv::Mat l16;
  planes[0].convertTo(l16, CV_16U, 655.35);
  cv::Mat equalised;
  cv::createCLAHE(clip_limit, tiles)->apply(l16, equalised);
  equalised.convertTo(planes[0], CV_32F, 1 / 655.35);
  cv::merge(planes, lab);
  cv::Mat back;
  cv::cvtColor(lab, back, cv::COLOR_Lab2BGR);
  cv::Mat out;
  back.convertTo(out, CV_16U, 65535);
  return out;
}

}  // namespace

cv::Mat reference_gray(const cv::Mat &image, bool keep_alpha) {
  if (image.channels() == 1) return image;
  cv::Mat gray;
  cv::cvtColor(colour_of(image), gray, cv::COLOR_BGR2GRAY);
  if (image.channels() == 3 || !keep_alpha) return gray;
  cv::Mat gray_colour;
  cv::cvtColor(gray, gray_colour, cv::COLOR_GRAY2BGR);
  return with_alpha(gray_colour, alpha_of(image));
}

cv::Mat reference_clahe(const cv::Mat &image, double clip_limit, cv::Size tiles) {
  if (image.channels() == 1) {
    cv::Mat out;
    cv::createCLAHE(clip_limit, tiles)->apply(image, out);
    return out;
  }
  cv::Mat colour = image.depth() == CV_8U ? clahe_8bit_colour(colour_of(image), clip_limit, tiles)
                                          : clahe_16bit_colour(colour_of(image), clip_limit, tiles);
  return image.channels() == 3 ? colour : with_alpha(colour, alpha_of(image));
}

cv::Mat reference_resize(const cv::Mat &image, double scale) {
  cv::Mat out;
  cv::resize(image, out, cv::Size(), scale, scale, cv::INTER_AREA);
  return out;
}

}  // namespace hutch::image::test
