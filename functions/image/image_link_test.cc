// What the binaries link: hello and sleep (hutch-fn) must never load OpenCV, whose start-up would be paid by
// every job; hutch-image links OpenCV's core, imgproc and imgcodecs and nothing else of it (no highgui, no
// videoio). Read from the ELF dynamic section with readelf (binutils, part of build-essential).
#include <fstream>
#include <iterator>
#include <regex>
#include <set>

#include "functions/image/image_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"

namespace hutch::image::test {
namespace {

// The NEEDED entries of an ELF file; an empty set for a static executable (no dynamic section).
std::set<std::string> needed_libraries(const std::string &path) {
  auto readelf = hutch::test::run_command({"/usr/bin/readelf", "--dynamic", "--wide", path}, std::chrono::seconds(30));
  EXPECT_EQ(readelf.exit_code(), 0) << readelf.err;
  std::set<std::string> libraries;
  std::regex needed(R"(\(NEEDED\)\s+Shared library: \[([^\]]+)\])");
  for (std::sregex_iterator it(readelf.out.begin(), readelf.out.end(), needed), end; it != end; ++it) {
    libraries.insert((*it)[1]);
  }
  return libraries;
}

TEST(Linking, HutchFnHasNoOpenCv) {
  std::string hutch_fn = hutch::test::hutch_fn_path();
  for (const auto &library : needed_libraries(hutch_fn)) EXPECT_EQ(library.find("opencv"), std::string::npos) << library;
  // Nor linked in statically: OpenCV's code carries its name in its error strings.
  std::ifstream file(hutch_fn, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find("OpenCV"), std::string::npos);
  EXPECT_EQ(bytes.find("opencv"), std::string::npos);
}

TEST(Linking, HutchImageLinksCoreImgprocImgcodecsOnly) {
  std::set<std::string> opencv;
  for (const auto &library : needed_libraries(hutch_image_path())) {
    if (library.find("opencv") != std::string::npos) opencv.insert(library.substr(0, library.find(".so")));
  }
  EXPECT_EQ(opencv, (std::set<std::string>{"libopencv_core", "libopencv_imgcodecs", "libopencv_imgproc"}));
}

}  // namespace
}  // namespace hutch::image::test
