// Formats other than the test images' PNG and JPEG, 16-bit images and gray ones: made here from the test
// images with imwrite, run through hutch-image, compared with plain OpenCV calls.
//
// The expected output of every file is decode(encode(reference, the format's extension)): for the lossless
// formats (PNG, TIFF, BMP, PGM/PPM, lossless WebP) that is the reference itself, which is checked too; for
// JPEG 2000 (lossy with OpenCV's defaults) it is the reference after the same encoder, which is deterministic.
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <functional>
#include <map>

#include "functions/image/image_reference.h"
#include "functions/image/image_test_util.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"

namespace hutch::image::test {
namespace {

struct Made {
  std::string extension;  // the encoder the file was written with, whatever its name says
  bool lossless;
  std::string signature;  // the output's first bytes must be these
};

class FormatsTest : public testing::Test {
 protected:
  void SetUp() override {
    cv::Mat apple = read_unchanged(testdata_dir() + "/apple.jpg");        // 700x800 BGR
    cv::Mat toolbar = read_unchanged(testdata_dir() + "/toolbar_rgba.png");  // BGRA
    ASSERT_EQ(apple.channels(), 3);
    ASSERT_EQ(toolbar.channels(), 4);
    cv::Mat colour = apple(cv::Rect(100, 100, 320, 240)).clone();
    cv::Mat rgba = toolbar(cv::Rect(0, 0, 400, 300)).clone();
    cv::Mat gray;
    cv::cvtColor(colour, gray, cv::COLOR_BGR2GRAY);
    cv::Mat colour16, rgba16, gray16;
    colour.convertTo(colour16, CV_16U, 257);
    rgba.convertTo(rgba16, CV_16U, 257);
    gray.convertTo(gray16, CV_16U, 257);
    // Fill the low bytes too, so a 16-bit path that truncates to 8 bits shows.
    cv::Mat noise(colour16.size(), colour16.type());
    cv::randu(noise, 0, 256);
    colour16 += noise;

    const std::string png = "\x89PNG", tiff = "II*", bmp = "BM", webp = "RIFF", jp2 = std::string("\0\0\0\x0cjP", 6);
    make("gray8.png", gray, ".png", true, png);
    make("gray16.png", gray16, ".png", true, png);
    make("colour16.png", colour16, ".png", true, png);
    make("rgba16.png", rgba16, ".png", true, png);
    make("png_named.tif", colour, ".png", true, png);
    make("colour8.tif", colour, ".tif", true, tiff);
    make("rgba8.tif", rgba, ".tif", true, tiff);
    make("colour16.tif", colour16, ".tif", true, tiff);
    make("colour.bmp", colour, ".bmp", true, bmp);
    make("gray.bmp", gray, ".bmp", true, bmp);
    make("colour.webp", colour, ".webp", true, webp);
    // Lossless WebP still drops the colour of fully transparent pixels, so RGBA WebP is compared after the
    // round trip only.
    make("rgba.webp", rgba, ".webp", false, webp);
    make("colour.jp2", colour, ".jp2", false, jp2);
    make("colour16.jp2", colour16, ".jp2", false, jp2);
    make("gray.pgm", gray, ".pgm", true, "P5");
    make("colour.ppm", colour, ".ppm", true, "P6");
    make("colour16.ppm", colour16, ".ppm", true, "P6");
  }

  void make(const std::string &name, const cv::Mat &image, const std::string &extension, bool lossless,
            const std::string &signature) {
    std::vector<unsigned char> bytes;
    ASSERT_TRUE(cv::imencode(extension, image, bytes)) << name;
    write_bytes(in_.path() + "/" + name, std::string(bytes.begin(), bytes.end()));
    made_[name] = {extension, lossless, signature};
  }

  void check_function(const std::string &function, const std::function<cv::Mat(const cv::Mat &)> &reference) {
    hutch::test::TempDir out("hutch-image-out");
    ImageRun run = run_image_function(function, "{}", in_.path(), out.path());
    ASSERT_EQ(run.exit_code, 0) << run.err;
    ASSERT_TRUE(run.result.is_object()) << run.result_text;
    std::map<std::string, nlohmann::json> entries;
    for (const auto &entry : run.result["files"]) entries[entry["name"]] = entry;
    ASSERT_EQ(entries.size(), made_.size()) << run.result_text;

    for (const auto &[name, made] : made_) {
      SCOPED_TRACE(name);
      cv::Mat source = read_unchanged(in_.path() + "/" + name);
      cv::Mat expected = reference(source);
      cv::Mat got = read_unchanged(out.path() + "/" + name);
      // PGM/PPM pick P5 or P6 by channels: a gray result of a PPM is a PGM.
      bool ppm_to_pgm = made.extension == ".ppm" && expected.channels() == 1;
      std::string extension = ppm_to_pgm ? ".pgm" : made.extension;
      std::string signature = ppm_to_pgm ? "P5" : made.signature;
      std::string out_bytes = read_bytes(out.path() + "/" + name);
      EXPECT_EQ(out_bytes.substr(0, signature.size()), signature) << "the output keeps the real format";
      EXPECT_EQ(max_difference(got, encode_decode(expected, extension)), 0)
          << "got " << describe(got) << ", expected " << describe(expected);
      bool channels_change = extension == ".webp" && expected.channels() == 1;  // WebP writes gray as colour
      if (made.lossless && !channels_change) {
        EXPECT_EQ(max_difference(got, expected), 0) << "lossless: the reference itself";
      }
      EXPECT_EQ(got.depth(), source.depth()) << "depth is kept (16-bit stays 16-bit)";
      EXPECT_EQ(entries[name]["output"]["depth"], source.depth() == CV_16U ? 16 : 8);
      EXPECT_EQ(entries[name]["output"]["channels"], expected.channels());
    }
  }

  hutch::test::TempDir in_{"hutch-image-in"};
  std::map<std::string, Made> made_;
};

TEST_F(FormatsTest, Rgb2gray) {
  check_function("rgb2gray", [](const cv::Mat &image) { return reference_gray(image); });
}

TEST_F(FormatsTest, Clahe) {
  check_function("clahe_equalization", [](const cv::Mat &image) { return reference_clahe(image); });
}

TEST_F(FormatsTest, Resize) {
  check_function("resize_image", [](const cv::Mat &image) { return reference_resize(image); });
}

TEST_F(FormatsTest, WebpGrayIsStoredAsEqualColourChannelsAndSaysSo) {
  hutch::test::TempDir out("hutch-image-out");
  ImageRun run = run_image_function("rgb2gray", "{}", in_.path(), out.path());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const auto &entry : run.result["files"]) {
    if (entry["name"] != "colour.webp") continue;
    EXPECT_EQ(entry["output"]["channels"], 1);
    ASSERT_TRUE(entry.contains("notes")) << entry.dump();
    EXPECT_NE(entry["notes"].dump().find("WebP has no grayscale"), std::string::npos) << entry.dump();
    cv::Mat got = read_unchanged(out.path() + "/colour.webp");
    EXPECT_EQ(got.channels(), 3);
    return;
  }
  FAIL() << "colour.webp missing from " << run.result_text;
}

}  // namespace
}  // namespace hutch::image::test
