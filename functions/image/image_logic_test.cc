// Pure logic of the image functions: format detection from bytes and the thumbnail size rule.
#include "functions/image/image_format.h"
#include "functions/image/image_ops.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hutch::image {
namespace {

using namespace std::string_view_literals;
using testing::HasSubstr;

TEST(DetectFormat, ByTheBytesNotTheName) {
  EXPECT_EQ(detect_format("\x89PNG\r\n\x1a\n...."sv, "photo.jpg"), ImageFormat::kPng);
  EXPECT_EQ(detect_format("\xff\xd8\xff\xe0"sv, "image.png"), ImageFormat::kJpeg);
  EXPECT_EQ(detect_format("BM\x36\x00"sv, "x"), ImageFormat::kBmp);
  EXPECT_EQ(detect_format("II*\0\x08\0"sv, "x"), ImageFormat::kTiff);
  EXPECT_EQ(detect_format("MM\0*\0\0"sv, "x"), ImageFormat::kTiff);
  EXPECT_EQ(detect_format("RIFF\x10\0\0\0WEBPVP8L"sv, "x"), ImageFormat::kWebp);
  EXPECT_EQ(detect_format("\0\0\0\x0cjP  \r\n\x87\n\0\0"sv, "x"), ImageFormat::kJpeg2000);
  EXPECT_EQ(detect_format("P5\n3 2\n255\n"sv, "x"), ImageFormat::kPnm);
  EXPECT_EQ(detect_format("P6 3 2 255 "sv, "x"), ImageFormat::kPnm);
}

TEST(DetectFormat, RefusalsNameTheFile) {
  auto text = detect_format("hello"sv, "notes.txt");
  ASSERT_FALSE(text);
  EXPECT_THAT(text.error().message, HasSubstr("'notes.txt' is not an image in a supported format (PNG, JPEG"));
  EXPECT_THAT(detect_format(""sv, "e").error().message, HasSubstr("'e' is empty"));
  EXPECT_THAT(detect_format("RIFF\x10\0\0\0WAVEfmt "sv, "a.webp").error().message, HasSubstr("'a.webp' is not an image"));
  EXPECT_THAT(detect_format("MM\0+"sv, "big.tif").error().message, HasSubstr("'big.tif' is a BigTIFF image"));
  EXPECT_THAT(detect_format("MMxx"sv, "m").error().message, HasSubstr("'m' is not an image"));
  EXPECT_THAT(detect_format("P7\nWIDTH 1"sv, "p.pam").error().message, HasSubstr("'p.pam' is a PAM image"));
  EXPECT_THAT(detect_format("P1\n1 1\n0"sv, "b.pbm").error().message, HasSubstr("'b.pbm' is a PBM (1-bit) image"));
  EXPECT_THAT(detect_format("Px\n"sv, "p").error().message, HasSubstr("'p' is not an image"));
  EXPECT_THAT(detect_format("v/1\x01\x02"sv, "e.exr").error().message, HasSubstr("OpenEXR"));
}

TEST(EncoderExtension, PnmFollowsTheChannels) {
  EXPECT_STREQ(encoder_extension(ImageFormat::kPnm, 1), ".pgm");
  EXPECT_STREQ(encoder_extension(ImageFormat::kPnm, 3), ".ppm");
  EXPECT_STREQ(encoder_extension(ImageFormat::kJpeg2000, 4), ".jp2");
}

TEST(ThumbnailSize, ScaleRoundsAsOpenCvDoes) {
  EXPECT_EQ(thumbnail_size({2900, 1430}, {}), cv::Size(725, 358));  // 357.5 -> 358 (cvRound: half to even)
  EXPECT_EQ(thumbnail_size({1905, 833}, {}), cv::Size(476, 208));
  EXPECT_EQ(thumbnail_size({2, 1}, {}), cv::Size(1, 1));  // never below one pixel
  EXPECT_EQ(thumbnail_size({640, 480}, {.scale = 1}), cv::Size(640, 480));
}

TEST(ThumbnailSize, BoxKeepsAspectRatioAndNeverEnlarges) {
  EXPECT_EQ(thumbnail_size({700, 800}, {.max_width = 100}), cv::Size(100, 114));
  EXPECT_EQ(thumbnail_size({700, 800}, {.max_height = 100}), cv::Size(88, 100));
  EXPECT_EQ(thumbnail_size({700, 800}, {.max_width = 350, .max_height = 350}), cv::Size(306, 350));
  EXPECT_EQ(thumbnail_size({800, 800}, {.max_width = 100, .max_height = 100}), cv::Size(100, 100));
  EXPECT_EQ(thumbnail_size({700, 800}, {.max_width = 700, .max_height = 800}), cv::Size(700, 800));
  EXPECT_EQ(thumbnail_size({10, 5}, {.max_width = 1000}), cv::Size(10, 5));
  EXPECT_EQ(thumbnail_size({10000, 1}, {.max_width = 10}), cv::Size(10, 1));
  EXPECT_EQ(thumbnail_size({1 << 20, 1 << 20}, {.max_width = 3, .max_height = 1 << 20}), cv::Size(3, 3));
}

}  // namespace
}  // namespace hutch::image
