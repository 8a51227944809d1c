// The image built-ins inside a real hutchd. Files in and out of a job are not wired yet (the lead's part), so
// this checks what can be checked without them: hutch-image starts inside the sandbox's filesystem view
// (OpenCV and its ~140 libraries load from the read-only /usr, nothing else needed) and reaches its own
// code, which asks for HUTCH_IN; and a hutchd without hutch-image still runs, rejecting image jobs with the
// reason.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/hutch_test.h"
#include "tests/support/record_checks.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;

class ImageFunctionsTest : public HutchTest {};

TEST_F(ImageFunctionsTest, HutchImageLoadsInsideTheSandbox) {
  HUTCH_REQUIRE_ROOT();
  for (const char *function : {"rgb2gray", "clahe_equalization", "resize_image"}) {
    SCOPED_TRACE(function);
    Fields record = run_job({{"function", function}, {"input", "{}"}});
    EXPECT_EQ(record["status"], "failed") << describe_fields(record);
    EXPECT_EQ(record["exit_code"], "2") << describe_fields(record);
    // The function's own sentence, so the loader and OpenCV got it that far; the sentence names HUTCH_IN
    // whether the job had no file directory at all or an empty one.
    auto output = nlohmann::json::parse(record["output"], nullptr, false);
    ASSERT_TRUE(output.is_object()) << record["output"];
    EXPECT_THAT(output.value("error", ""), HasSubstr("HUTCH_IN")) << record["output"];
    EXPECT_THAT(record["isolation"], HasSubstr("rootfs"));
  }
}

TEST_F(ImageFunctionsTest, BadParametersAreTheFunctionsSentence) {
  Fields record = run_job({{"function", "clahe_equalization"}, {"input", R"({"clip_limit": 0})"}});
  EXPECT_EQ(record["status"], "failed") << describe_fields(record);
  auto output = nlohmann::json::parse(record["output"], nullptr, false);
  ASSERT_TRUE(output.is_object()) << record["output"];
  EXPECT_EQ(output.value("error", ""), "clip_limit: 0 is out of range; use a number > 0 and <= 1000");
  EXPECT_EQ(record["error"], "the function exited with code 2: clip_limit: 0 is out of range; use a number > 0 and <= 1000")
      << "the record's error carries the function's own sentence";
}

// End to end with files: the images go in through Redis keys and come back as keys, in their own format;
// a file that is not an image fails the job with a sentence naming it. The jobs get 60 s rather than the
// default 5: under software emulation (scripts/test-vm's VM without KVM) OpenCV takes ~5 s of CPU on them.
TEST_F(ImageFunctionsTest, ImagesGoInAndComeBackThroughRedis) {
  HUTCH_REQUIRE_ROOT();
  ASSERT_EQ(redis().command({"SET", "img:hamster", read_file_text(HUTCH_TESTDATA_DIR "/hamster.jpg")}).text, "OK");
  ASSERT_EQ(redis().command({"SET", "img:toolbar", read_file_text(HUTCH_TESTDATA_DIR "/toolbar_rgba.png")}).text, "OK");
  for (const char *function : {"rgb2gray", "clahe_equalization", "resize_image"}) {
    SCOPED_TRACE(function);
    Fields record = run_job({{"function", function},
                             {"files", R"({"hamster.jpg":"img:hamster","toolbar.png":"img:toolbar"})"},
                             {"timeout", "60"}},
                            std::chrono::seconds(90));
    ASSERT_EQ(record["status"], "succeeded") << describe_fields(record);
    EXPECT_EQ(redis().command({"GET", "hutch:out:" + record["id"] + "/hamster.jpg"}).text.substr(0, 2), "\xff\xd8");
    EXPECT_EQ(redis().command({"GET", "hutch:out:" + record["id"] + "/toolbar.png"}).text.substr(1, 3), "PNG");
    EXPECT_THAT(record["files_out"], HasSubstr("\"name\":\"toolbar.png\""));
  }
  ASSERT_EQ(redis().command({"SET", "txt:notes", "just some words\n"}).text, "OK");
  Fields bad = run_job(
      {{"function", "rgb2gray"}, {"files", R"({"hamster.jpg":"img:hamster","notes.txt":"txt:notes"})"}, {"timeout", "60"}},
      std::chrono::seconds(90));
  EXPECT_EQ(bad["status"], "failed");
  EXPECT_THAT(bad["error"], HasSubstr("'notes.txt' is not an image")) << describe_fields(bad);
  EXPECT_EQ(bad.count("files_out"), 0u);
}

TEST_F(ImageFunctionsTest, WithoutHutchImageHutchdRunsAndRejectsImageJobs) {
  HutchdOptions options = hutchd_options();
  for (std::string &variable : options.environment) {
    if (variable.starts_with("HUTCH_IMAGE=")) variable = "HUTCH_IMAGE=/nonexistent/hutch-image";
  }
  ASSERT_TRUE(start_hutchd(options));
  EXPECT_TRUE(hutchd().wait_for_log("image functions (rgb2gray, clahe_equalization, resize_image) are unavailable",
                                    std::chrono::seconds(5)))
      << hutchd().log_text();

  Fields rejected = run_job({{"function", "resize_image"}});
  EXPECT_EQ(rejected["status"], "rejected") << describe_fields(rejected);
  EXPECT_THAT(rejected["error"], HasSubstr("function: 'resize_image' is a built-in image function, but this hutchd "
                                           "has no hutch-image"));
  EXPECT_THAT(rejected["error"], HasSubstr("/nonexistent/hutch-image"));
  EXPECT_THAT(rejected["error"], HasSubstr("--hutch-image PATH"));

  Fields hello = run_job({{"function", "hello"}});
  EXPECT_EQ(hello["status"], "succeeded") << describe_fields(hello);
}

}  // namespace
}  // namespace hutch::test
