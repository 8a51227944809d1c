// opencv_pipeline: what an OpenCV image function does, for the seccomp allowlist's tests. {"size": N}
// (default 512, cap 2048) makes an N x N colour image, encodes it as PNG, decodes it, converts it to grey,
// blurs, equalises (CLAHE) and resizes it on OpenCV's worker threads (as many as the job's CPUs), and
// encodes a JPEG. Writes
// {"threads", "width", "height", "png_bytes", "jpeg_bytes", "mean"}; an OpenCV exception exits 1.
#include <cstdio>
#include <exception>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tests/programs/program_input.h"

int main() {
  constexpr const char *kProgram = "opencv_pipeline";
  auto input = hutch::programs::input_or_exit(kProgram);
  int size = static_cast<int>(hutch::programs::integer_param(kProgram, input, "size", 512, 16, 2048));
  try {
    cv::Mat colour(size, size, CV_8UC3);
    cv::randu(colour, cv::Scalar::all(0), cv::Scalar::all(255));
    std::vector<unsigned char> png;
    if (!cv::imencode(".png", colour, png)) throw std::runtime_error("imencode .png failed");
    cv::Mat decoded = cv::imdecode(png, cv::IMREAD_COLOR);
    cv::Mat grey, blurred, equalised, resized;
    cv::cvtColor(decoded, grey, cv::COLOR_BGR2GRAY);
    cv::GaussianBlur(grey, blurred, cv::Size(5, 5), 1.5);
    cv::createCLAHE(2.0, cv::Size(8, 8))->apply(blurred, equalised);
    cv::resize(equalised, resized, cv::Size(size / 2, size / 2), 0, 0, cv::INTER_AREA);
    std::vector<unsigned char> jpeg;
    if (!cv::imencode(".jpg", resized, jpeg)) throw std::runtime_error("imencode .jpg failed");
    hutch::programs::write_result_or_exit(kProgram, {{"threads", cv::getNumThreads()},
                                                     {"width", resized.cols},
                                                     {"height", resized.rows},
                                                     {"png_bytes", png.size()},
                                                     {"jpeg_bytes", jpeg.size()},
                                                     {"mean", cv::mean(resized)[0]}});
  } catch (const std::exception &error) {
    std::fprintf(stderr, "%s: %s\n", kProgram, error.what());
    return 1;
  }
  return 0;
}
