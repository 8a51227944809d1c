// hutch-image's refusals: files that are not images, bad parameters, missing directories. Each is a non-zero
// exit with one sentence, on stderr and as {"error": ...} on fd 3, that names the file or the field.
#include <sys/stat.h>
#include <unistd.h>

#include <opencv2/imgcodecs.hpp>

#include "functions/image/image_test_util.h"
#include "functions/builtin_names.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"

namespace hutch::image::test {
namespace {

using testing::HasSubstr;

constexpr int kExitBadInput = 2;

// The sentence a failed run gave, after checking it was given on both channels.
std::string failure_sentence(const ImageRun &run) {
  EXPECT_NE(run.exit_code, 0);
  EXPECT_TRUE(run.result.is_object() && run.result["error"].is_string()) << run.result_text;
  std::string sentence = run.result.is_object() ? run.result.value("error", "") : "";
  EXPECT_THAT(run.err, HasSubstr(sentence));
  return sentence;
}

class ErrorsTest : public testing::Test {
 protected:
  void SetUp() override { write_bytes(in_.path() + "/apple.jpg", read_bytes(testdata_dir() + "/apple.jpg")); }
  ImageRun run(const std::string &function, const std::string &input) {
    return run_image_function(function, input, in_.path(), out_.path());
  }
  hutch::test::TempDir in_{"hutch-image-in"};
  hutch::test::TempDir out_{"hutch-image-out"};
};

TEST_F(ErrorsTest, ATextFileFailsTheJobNamingTheFile) {
  write_bytes(in_.path() + "/notes.txt", "just some words\n");
  for (const auto &function : image_function_names()) {
    SCOPED_TRACE(function);
    ImageRun failed = run(function, "{}");
    EXPECT_EQ(failed.exit_code, kExitBadInput);
    EXPECT_THAT(failure_sentence(failed), HasSubstr("'notes.txt' is not an image in a supported format"));
    // Every file is checked before any is processed: apple.jpg, sorted first, was not written.
    EXPECT_TRUE(file_names(out_.path()).empty());
  }
}

TEST_F(ErrorsTest, TheNameDoesNotMakeAnImage) {
  write_bytes(in_.path() + "/fake.png", "not a png at all");
  EXPECT_THAT(failure_sentence(run("rgb2gray", "{}")), HasSubstr("'fake.png' is not an image"));
}

TEST_F(ErrorsTest, EmptyAndDamagedFilesAreNamed) {
  write_bytes(in_.path() + "/empty.png", "");
  EXPECT_THAT(failure_sentence(run("rgb2gray", "{}")), HasSubstr("'empty.png' is empty, not an image"));
  ::unlink((in_.path() + "/empty.png").c_str());
  std::string png = read_bytes(testdata_dir() + "/toolbar_rgba.png");
  write_bytes(in_.path() + "/cut.png", png.substr(0, 200));
  ImageRun failed = run("rgb2gray", "{}");
  EXPECT_EQ(failed.exit_code, kExitBadInput);
  EXPECT_THAT(failure_sentence(failed), HasSubstr("'cut.png' starts like a png image but could not be decoded"));
}

TEST_F(ErrorsTest, KnownButUnsupportedFormatsSayWhatTheyAre) {
  write_bytes(in_.path() + "/anim.gif", "GIF89a\x01\x00\x01\x00");
  EXPECT_THAT(failure_sentence(run("resize_image", "{}")), HasSubstr("'anim.gif' is a GIF image"));
  ::unlink((in_.path() + "/anim.gif").c_str());
  write_bytes(in_.path() + "/bits.pbm", "P4\n2 2\n\x00\x00");
  EXPECT_THAT(failure_sentence(run("resize_image", "{}")), HasSubstr("'bits.pbm' is a PBM (1-bit) image"));
}

TEST_F(ErrorsTest, DirectoriesAndLinksAreNotFiles) {
  ASSERT_EQ(::mkdir((in_.path() + "/sub").c_str(), 0755), 0);
  EXPECT_THAT(failure_sentence(run("rgb2gray", "{}")), HasSubstr("'sub' is a directory"));
  ASSERT_EQ(::rmdir((in_.path() + "/sub").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (in_.path() + "/link.png").c_str()), 0);
  EXPECT_THAT(failure_sentence(run("rgb2gray", "{}")), HasSubstr("'link.png' is a symbolic link"));
}

TEST_F(ErrorsTest, FloatingPointTiffIsRefused) {
  cv::Mat image(8, 8, CV_32FC1, cv::Scalar(0.5));
  std::vector<unsigned char> bytes;
  ASSERT_TRUE(cv::imencode(".tif", image, bytes));
  write_bytes(in_.path() + "/float.tif", std::string(bytes.begin(), bytes.end()));
  EXPECT_THAT(failure_sentence(run("clahe_equalization", "{}")),
              HasSubstr("'float.tif' has samples that are neither 8- nor 16-bit"));
}

TEST_F(ErrorsTest, NoFilesAndNoDirectories) {
  ::unlink((in_.path() + "/apple.jpg").c_str());
  EXPECT_THAT(failure_sentence(run("rgb2gray", "{}")), HasSubstr("no input files: HUTCH_IN"));
  ImageRun no_in = run_image_function("rgb2gray", "{}", "", out_.path());
  EXPECT_THAT(failure_sentence(no_in), HasSubstr("HUTCH_IN is not set"));
  ImageRun no_out = run_image_function("rgb2gray", "{}", in_.path(), "");
  EXPECT_THAT(failure_sentence(no_out), HasSubstr("HUTCH_OUT is not set"));
}

TEST_F(ErrorsTest, BadParametersAreRejectedWithTheFieldAndTheRule) {
  struct Case {
    const char *function;
    const char *input;
    const char *sentence;
  };
  for (const Case &c : {
           Case{"clahe_equalization", R"({"clip_limit": 0})", "clip_limit: 0 is out of range; use a number > 0 and <= 1000"},
           Case{"clahe_equalization", R"({"clip_limit": -2})", "clip_limit: -2 is out of range"},
           Case{"clahe_equalization", R"({"clip_limit": "2"})", "clip_limit: \"2\" is not a number"},
           Case{"clahe_equalization", R"({"tile_grid_size": [8]})", "tile_grid_size: [8] is not a pair; use [columns, rows]"},
           Case{"clahe_equalization", R"({"tile_grid_size": [0, 8]})", "tile_grid_size columns: 0 is out of range; use a whole number from 1 to 32"},
           Case{"clahe_equalization", R"({"tile_grid_size": 33})", "tile_grid_size: 33 is out of range"},
           Case{"clahe_equalization", R"({"tile_grid_size": 2.5})", "tile_grid_size: 2.5 is not a whole number"},
           Case{"clahe_equalization", R"({"tile_grid_size": "8"})", "tile_grid_size: \"8\" is neither a number nor a pair"},
           Case{"clahe_equalization", R"({"clip": 2})", "unknown field \"clip\"; clahe_equalization takes clip_limit, tile_grid_size and threads"},
           Case{"resize_image", R"({"scale": 0})", "scale: 0 is out of range; use a number > 0 and <= 1"},
           Case{"resize_image", R"({"scale": 1.5})", "scale: 1.5 is out of range"},
           Case{"resize_image", R"({"scale": 0.5, "max_width": 10})", "give either scale or a box"},
           Case{"resize_image", R"({"max_width": 0})", "max_width: 0 is out of range; use a whole number from 1 to 1048576"},
           Case{"resize_image", R"({"max_height": 12.5})", "max_height: 12.5 is not a whole number"},
           Case{"rgb2gray", R"({"keep_alpha": "yes"})", "keep_alpha: \"yes\" is not a boolean; use true or false"},
           Case{"rgb2gray", R"({"threads": 0})", "threads: 0 is out of range; use a whole number from 1 to"},
           Case{"rgb2gray", R"({"threads": 100000})", "threads: 100000 is out of range"},
           Case{"rgb2gray", "[1]", "input must be a JSON object or null, not array"},
           Case{"rgb2gray", "{nope", "input is not valid JSON"},
       }) {
    SCOPED_TRACE(std::string(c.function) + " " + c.input);
    ImageRun failed = run(c.function, c.input);
    EXPECT_EQ(failed.exit_code, kExitBadInput);
    EXPECT_THAT(failure_sentence(failed), HasSubstr(c.sentence));
    EXPECT_TRUE(file_names(out_.path()).empty());
  }
}

TEST_F(ErrorsTest, AnExistingOutputIsNotOverwritten) {
  write_bytes(out_.path() + "/apple.jpg", "already here");
  ImageRun failed = run("rgb2gray", "{}");
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_THAT(failure_sentence(failed), HasSubstr("apple.jpg')"));
  EXPECT_EQ(read_bytes(out_.path() + "/apple.jpg"), "already here");
}

TEST(HutchImageCli, WithoutFd3TheResultGoesToStdout) {
  // By hand, with fd 3 closed: HUTCH_IN, opened first, must not take fd 3 and swallow the result.
  hutch::test::TempDir in("hutch-image-in");
  hutch::test::TempDir out("hutch-image-out");
  write_bytes(in.path() + "/hamster.jpg", read_bytes(testdata_dir() + "/hamster.jpg"));
  auto run = hutch::test::run_command({"/bin/sh", "-c", "exec \"$0\" rgb2gray </dev/null 3>&-", hutch_image_path()},
                                      std::chrono::seconds(60), {"HUTCH_IN=" + in.path(), "HUTCH_OUT=" + out.path()});
  ASSERT_EQ(run.exit_code(), 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("hamster.jpg: jpeg 612x408 3ch 8-bit -> 612x408 1ch 8-bit in"));
  EXPECT_THAT(run.out, HasSubstr(R"({"files":[{"bytes":)"));
}

TEST(HutchImageCli, ListsTheRegistryNamesAndAnswersToThemAsArgvZero) {
  auto listed = hutch::test::run_command({hutch_image_path(), "--list"}, std::chrono::seconds(30));
  ASSERT_EQ(listed.exit_code(), 0) << listed.err;
  std::string expected;
  for (const auto &name : image_function_names()) expected += name + "\n";
  EXPECT_EQ(listed.out, expected);

  auto unknown = hutch::test::run_command({hutch_image_path(), "hello"}, std::chrono::seconds(30));
  EXPECT_EQ(unknown.exit_code(), kExitBadInput);
  EXPECT_THAT(unknown.err, HasSubstr("no image function 'hello'"));

  // Called through a link named after the function, with no argument.
  hutch::test::TempDir links("hutch-image-links");
  hutch::test::TempDir in("hutch-image-in");
  hutch::test::TempDir out("hutch-image-out");
  write_bytes(in.path() + "/hamster.jpg", read_bytes(testdata_dir() + "/hamster.jpg"));
  ASSERT_EQ(::symlink(hutch_image_path().c_str(), (links.path() + "/resize_image").c_str()), 0);
  ImageRun linked = run_image_function("", "{}", in.path(), out.path(), links.path() + "/resize_image");
  ASSERT_EQ(linked.exit_code, 0) << linked.err;
  EXPECT_EQ(linked.result["function"], "resize_image");
  EXPECT_EQ(file_names(out.path()), std::vector<std::string>{"hamster.jpg"});
}

}  // namespace
}  // namespace hutch::image::test
