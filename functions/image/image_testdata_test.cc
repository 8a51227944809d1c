// hutch-image on tests/data/images (JPEG, PNG, RGBA PNG, a PNG named .jpg), run as hutchd runs it, compared
// pixel by pixel with plain OpenCV calls made here (image_reference.cc).
//
// How outputs are compared: PNG is lossless, so the decoded output must equal the reference exactly. JPEG is
// not, so the reference is encoded with the same call hutch-image makes (imencode(".jpg"), OpenCV's default
// quality 95) and decoded again; same pixels in, same libjpeg, same settings: the decoded output must then
// equal that round trip exactly too. No tolerance anywhere.
#include <sched.h>

#include <functional>

#include <opencv2/imgproc.hpp>

#include "functions/image/image_reference.h"
#include "functions/image/image_test_util.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"

namespace hutch::image::test {
namespace {

bool is_png(const std::string &bytes) { return bytes.rfind("\x89PNG\r\n\x1a\n", 0) == 0; }
bool is_jpeg(const std::string &bytes) { return bytes.rfind("\xff\xd8\xff", 0) == 0; }

class TestdataTest : public testing::Test {
 protected:
  void SetUp() override {
    names_ = file_names(testdata_dir());
    ASSERT_FALSE(names_.empty()) << "no test images in " << testdata_dir() << " (set HUTCH_TESTDATA)";
  }

  // Runs `function` on every test image and checks each output against `reference(input)`.
  void check_function(const std::string &function, const std::string &input,
                      const std::function<cv::Mat(const cv::Mat &)> &reference) {
    hutch::test::TempDir out("hutch-image-out");
    ImageRun run = run_image_function(function, input, testdata_dir(), out.path());
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(file_names(out.path()), names_) << "one output per input, under the same name";
    ASSERT_TRUE(run.result.is_object()) << run.result_text;
    EXPECT_EQ(run.result["function"], function);
    ASSERT_EQ(run.result["files"].size(), names_.size()) << run.result_text;

    for (size_t i = 0; i < names_.size(); ++i) {
      SCOPED_TRACE(names_[i]);
      std::string in_bytes = read_bytes(testdata_dir() + "/" + names_[i]);
      std::string out_bytes = read_bytes(out.path() + "/" + names_[i]);
      ASSERT_TRUE(is_png(in_bytes) || is_jpeg(in_bytes)) << "the test images are PNG and JPEG";
      EXPECT_EQ(is_png(out_bytes), is_png(in_bytes)) << "the output keeps the input's real format";
      EXPECT_EQ(is_jpeg(out_bytes), is_jpeg(in_bytes)) << "the output keeps the input's real format";

      cv::Mat source = read_unchanged(testdata_dir() + "/" + names_[i]);
      cv::Mat expected = reference(source);
      if (is_jpeg(in_bytes)) expected = encode_decode(expected, ".jpg");
      cv::Mat got = read_unchanged(out.path() + "/" + names_[i]);
      EXPECT_EQ(max_difference(got, expected), 0) << "got " << describe(got) << ", expected " << describe(expected);

      const nlohmann::json &entry = run.result["files"][i];
      EXPECT_EQ(entry["name"], names_[i]);
      EXPECT_EQ(entry["format"], is_png(in_bytes) ? "png" : "jpeg");
      EXPECT_EQ(entry["input"], (nlohmann::json{{"width", source.cols}, {"height", source.rows},
                                                {"channels", source.channels()}, {"depth", 8}}));
      EXPECT_EQ(entry["output"]["width"], got.cols);
      EXPECT_EQ(entry["output"]["height"], got.rows);
      EXPECT_EQ(entry["bytes"], out_bytes.size());
      EXPECT_GE(entry["ms"].get<double>(), 0);
    }
  }

  std::vector<std::string> names_;
};

TEST_F(TestdataTest, ThePngNamedJpgIsThere) {
  // The brief's trap: without it the format-by-content checks would prove nothing.
  bool found = false;
  for (const auto &name : names_) {
    std::string bytes = read_bytes(testdata_dir() + "/" + name);
    found = found || (name.ends_with(".jpg") && is_png(bytes));
  }
  EXPECT_TRUE(found) << "expected a PNG named .jpg among the test images";
}

TEST_F(TestdataTest, Rgb2grayMatchesCvtColor) {
  check_function("rgb2gray", "{}", [](const cv::Mat &image) { return reference_gray(image); });
}

TEST_F(TestdataTest, Rgb2grayWithoutAlphaIsOneChannel) {
  check_function("rgb2gray", R"({"keep_alpha": false})", [](const cv::Mat &image) {
    cv::Mat gray = reference_gray(image, false);
    EXPECT_EQ(gray.channels(), 1);
    return gray;
  });
}

TEST_F(TestdataTest, ClaheMatchesTheTutorial) {
  check_function("clahe_equalization", "null", [](const cv::Mat &image) { return reference_clahe(image); });
}

TEST_F(TestdataTest, ClaheTakesClipLimitAndTiles) {
  check_function("clahe_equalization", R"({"clip_limit": 4.5, "tile_grid_size": [4, 2]})",
                 [](const cv::Mat &image) { return reference_clahe(image, 4.5, {4, 2}); });
}

TEST_F(TestdataTest, ResizeIsAQuarterWithInterArea) {
  check_function("resize_image", "", [](const cv::Mat &image) { return reference_resize(image); });
}

TEST_F(TestdataTest, ResizeTakesAScale) {
  check_function("resize_image", R"({"scale": 0.1})", [](const cv::Mat &image) { return reference_resize(image, 0.1); });
}

TEST_F(TestdataTest, TwoThreadsGiveTheSamePixels) {
  cpu_set_t cpus;
  ASSERT_EQ(::sched_getaffinity(0, sizeof cpus, &cpus), 0);
  if (CPU_COUNT(&cpus) < 2) GTEST_SKIP() << "one CPU: hutch-image allows threads up to the CPUs it may use";
  check_function("clahe_equalization", R"({"threads": 2})", [](const cv::Mat &image) { return reference_clahe(image); });
}

// max_width / max_height on apple.jpg (a 700x800 PNG): the box decides the side that overflows most, the
// other keeps the aspect ratio (rounded half up), and nothing is ever enlarged.
TEST(ResizeBox, FitsInsideTheBoxKeepingTheAspectRatio) {
  std::string apple = testdata_dir() + "/apple.jpg";
  cv::Mat source = read_unchanged(apple);
  ASSERT_EQ(source.size(), cv::Size(700, 800));
  hutch::test::TempDir in("hutch-image-in");
  write_bytes(in.path() + "/apple.jpg", read_bytes(apple));

  struct Case {
    const char *input;
    cv::Size size;
  };
  for (const Case &c : {Case{R"({"max_width": 100})", {100, 114}},      // 800 * 100 / 700 = 114.3
                        Case{R"({"max_height": 100})", {88, 100}},      // 700 * 100 / 800 = 87.5
                        Case{R"({"max_width": 350, "max_height": 350})", {306, 350}},
                        Case{R"({"max_width": 350, "max_height": 2000})", {350, 400}},
                        Case{R"({"max_width": 1000, "max_height": 1000})", {700, 800}},  // never enlarged
                        Case{R"({"max_width": 700})", {700, 800}},
                        Case{R"({"scale": 1})", {700, 800}}}) {
    SCOPED_TRACE(c.input);
    hutch::test::TempDir out("hutch-image-out");
    ImageRun run = run_image_function("resize_image", c.input, in.path(), out.path());
    ASSERT_EQ(run.exit_code, 0) << run.err;
    cv::Mat got = read_unchanged(out.path() + "/apple.jpg");
    cv::Mat expected;
    if (c.size == source.size()) {
      expected = source;
    } else {
      cv::resize(source, expected, c.size, 0, 0, cv::INTER_AREA);
    }
    EXPECT_EQ(got.size(), c.size);
    EXPECT_EQ(max_difference(got, expected), 0) << describe(got);
    EXPECT_EQ(run.result["files"][0]["output"]["width"], c.size.width);
    EXPECT_EQ(run.result["files"][0]["output"]["height"], c.size.height);
  }
}

}  // namespace
}  // namespace hutch::image::test
