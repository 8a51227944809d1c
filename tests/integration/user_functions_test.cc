// User functions and packages (docs/functions.md): registered with the hutch CLI, stored in Redis, run by a
// real hutchd from its package cache. Uses the repo's examples/ and tests/data/images images.
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <cstring>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/user_functions_fixture.h"
#include "tests/support/hutch_test.h"
#include "tests/support/record_checks.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;

// The value after "label:" on its line of `hutch function show`, "" when there is no such line.
std::string shown_value(const std::string &shown, const std::string &label) {
  const std::string text = "\n" + shown, key = "\n" + label + ":";
  size_t at = text.find(key);
  if (at == std::string::npos) return "";
  size_t start = std::min(text.find_first_not_of(' ', at + key.size()), text.size());
  return text.substr(start, text.find('\n', start) - start);
}

int64_t now_milliseconds() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST_F(UserFunctionsTest, HelloWorldInPythonRunsAndIsCounted) {
  HUTCH_REQUIRE_ROOT();
  EXPECT_THAT(ok({"function", "create", "hello-world", "--entry", "python3 main.py", "--package",
                  kExamples + "/hello-world", "--description", "says hello"}),
              HasSubstr("created hello-world"));
  Fields record = run_job({{"function", "hello-world"}, {"input", R"({"name":"Ada"})"}});
  ASSERT_EQ(record["status"], "succeeded") << record["error"];
  EXPECT_EQ(record["output"], R"({"greeting": "Hello, Ada"})");
  std::string shown = ok({"function", "show", "hello-world"});
  EXPECT_THAT(shown, HasSubstr("checksum:    sha256:"));
  EXPECT_THAT(shown, HasSubstr("executions:  1"));
  EXPECT_THAT(shown, HasSubstr("description: says hello"));
  EXPECT_THAT(ok({"function", "list"}), HasSubstr("hello-world"));
}

// `show` gives when the definition was created and last updated, as UTC times with milliseconds: equal at
// creation, and an update moves only the second.
TEST_F(UserFunctionsTest, ShowGivesTheCreatedAndUpdatedTimes) {
  std::string code = file("main.py", "print('x')\n");
  const int64_t before = now_milliseconds();
  ok({"function", "create", "dated", "--entry", "python3 main.py", "--file", code});
  const int64_t after = now_milliseconds();
  std::string shown = ok({"function", "show", "dated"});
  auto created = parse_utc_milliseconds(shown_value(shown, "created"));
  auto updated = parse_utc_milliseconds(shown_value(shown, "updated"));
  ASSERT_TRUE(created && updated) << shown;
  EXPECT_EQ(*created, *updated) << shown;
  EXPECT_GE(*created, before - 1000) << shown;  // a second of slack for clocks read in two processes
  EXPECT_LE(*created, after + 1000) << shown;

  // The update must come in a later millisecond than the creation for the two times to differ: wait for the
  // clock to pass it (bounded by the clock itself), rather than for a guess.
  while (now_milliseconds() <= *updated) std::this_thread::yield();
  const int64_t before_update = now_milliseconds();
  ok({"function", "update", "dated", "--timeout", "5"});
  shown = ok({"function", "show", "dated"});
  EXPECT_EQ(parse_utc_milliseconds(shown_value(shown, "created")), created) << "an update keeps the creation time";
  auto changed = parse_utc_milliseconds(shown_value(shown, "updated"));
  ASSERT_TRUE(changed) << shown;
  EXPECT_GT(*changed, *updated) << shown;
  EXPECT_GE(*changed, before_update - 1000) << shown;
  EXPECT_EQ(shown_value(shown, "timeout"), "5");
}

// The function's memory and cpu defaults reach the record (memory_limit, cpu_limit) unless the job sets
// its own.
TEST_F(UserFunctionsTest, MemoryAndCpuDefaultsApplyUnlessTheJobSetsItsOwn) {
  HUTCH_REQUIRE_ROOT();
  std::string script = file("small.sh", "#!/bin/sh\necho small\n", 0755);
  ok({"function", "create", "small", "--entry", "small.sh", "--file", script, "--memory", "96M", "--cpu", "0.5"});
  std::string shown = ok({"function", "show", "small"});
  EXPECT_EQ(shown_value(shown, "memory"), std::to_string(96 << 20));
  EXPECT_EQ(shown_value(shown, "cpu"), "0.5");

  Fields defaults = run_job({{"function", "small"}});
  EXPECT_EQ(defaults["status"], "succeeded") << describe_fields(defaults);
  EXPECT_EQ(defaults["memory_limit"], std::to_string(96 << 20)) << "the function's default memory";
  EXPECT_EQ(defaults["cpu_limit"], "0.5") << "the function's default cpu";

  Fields own = run_job({{"function", "small"}, {"memory", "128M"}, {"cpu", "1"}});
  EXPECT_EQ(own["status"], "succeeded") << describe_fields(own);
  EXPECT_EQ(own["memory_limit"], std::to_string(128 << 20)) << "the job's own memory wins";
  EXPECT_EQ(own["cpu_limit"], "1") << "the job's own cpu wins";
}

TEST_F(UserFunctionsTest, DefaultsApplyUnlessTheJobSetsItsOwnAndUpdatesTakeEffect) {
  HUTCH_REQUIRE_ROOT();
  std::string script = file("nap.sh", "#!/bin/sh\necho \"fn=$HUTCH_FUNCTION dir=$HUTCH_FUNCTION_DIR\"\nsleep 10\n", 0755);
  ok({"function", "create", "nap", "--entry", "nap.sh", "--file", script, "--timeout", "1"});
  Fields short_run = run_job({{"function", "nap"}});
  EXPECT_EQ(short_run["status"], "timeout") << short_run["error"];
  EXPECT_EQ(short_run["timeout"], "1") << "the function's default timeout";
  std::vector<StreamEntry> logs = redis().xrange(RedisClient::logs_key(short_run["id"]));
  ASSERT_FALSE(logs.empty());
  EXPECT_EQ(logs.front().get("line"), "fn=nap dir=/function");

  Fields own = run_job({{"function", "nap"}, {"timeout", "0.5"}});
  EXPECT_EQ(own["timeout"], "0.5") << "the job's own value wins";

  ok({"function", "update", "nap", "--timeout", "15"});
  std::string faster = file("v2/nap.sh", "#!/bin/sh\necho v2\n", 0755);
  ok({"function", "update", "nap", "--file", faster});
  Fields updated = run_job({{"function", "nap"}});
  EXPECT_EQ(updated["status"], "succeeded") << updated["error"];
  EXPECT_EQ(updated["timeout"], "15");
  EXPECT_EQ(redis().xrange(RedisClient::logs_key(updated["id"])).front().get("line"), "v2");
}

TEST_F(UserFunctionsTest, ADeletedFunctionIsRejectedByName) {
  HUTCH_REQUIRE_ROOT();
  ok({"function", "create", "gone", "--entry", "python3 main.py", "--package", kExamples + "/hello-world"});
  ok({"function", "delete", "gone"});
  Fields record = run_job({{"function", "gone"}});
  EXPECT_EQ(record["status"], "rejected");
  EXPECT_THAT(record["error"], HasSubstr("function: 'gone' is not a known function"));
  EXPECT_EQ(redis().command({"KEYS", "hutch:blob:*"}).elements.size(), 0u) << "its unused code is dropped";
}

TEST_F(UserFunctionsTest, BadDefinitionsAreRefusedWithASentence) {
  std::string code = file("main.py", "print('x')\n");
  auto refused = [&](std::vector<std::string> args, const std::string &expected) {
    CommandResult result = hutch(args);
    EXPECT_EQ(result.exit_code(), 1) << testing::PrintToString(args) << result.out;
    EXPECT_THAT(result.err, HasSubstr(expected)) << testing::PrintToString(args);
  };
  refused({"function", "create", "f1", "--entry", "nosuchprogram main.py", "--file", code},
          "'nosuchprogram' is neither a file of the package nor a program in /usr/local/bin, /usr/bin or /bin");
  refused({"function", "create", "f1", "--entry", "main.py", "--file", file("plain.py", "x", 0644)},
          "entry 'main.py': 'main.py' is neither");
  refused({"function", "create", "hello", "--entry", "python3 main.py", "--file", code},
          "'hello' is a built-in function; a user function cannot replace it");
  refused({"function", "create", "f1", "--entry", "python3 'main.py", "--file", code}, "has an unclosed ' quote");
  refused({"function", "create", "f1", "--entry", "python3 main.py", "--file", code, "--timeout", "301"},
          "--timeout: '301' is out of range");
  ok({"function", "create", "f1", "--entry", "python3 main.py", "--file", code});
  refused({"function", "create", "f1", "--entry", "python3 main.py", "--file", code}, "'f1' exists");
  refused({"function", "update", "nope", "--timeout", "2"}, "no function 'nope'");

  // Random bytes do not compress: 65 MiB of them is past the 64 MiB a stored package may have.
  std::string big(65 << 20, '\0');
  std::mt19937_64 random(42);
  for (size_t i = 0; i + 8 <= big.size(); i += 8) {
    uint64_t value = random();
    std::memcpy(&big[i], &value, 8);
  }
  file("big/main.py", "print(1)\n");
  file("big/blob.bin", big);
  refused({"function", "create", "f2", "--entry", "python3 main.py", "--package", scratch_ + "/big"},
          "larger than 64 MiB");

  file("badpkg/hutch.toml", "name = \"p\"\n[functions.a]\nentry = \"python3 main.py\"\ntimeout = 999\n");
  file("badpkg/main.py", "print(1)\n");
  refused({"package", "push", scratch_ + "/badpkg"}, "p.a: timeout: '999' is out of range");
  file("badtoml/hutch.toml", "name = \"p\"\n[functions.a\n");
  refused({"package", "push", scratch_ + "/badtoml"}, "hutch.toml line 2");
  file("nomanifest/main.py", "print(1)\n");
  refused({"package", "push", scratch_ + "/nomanifest"}, "no hutch.toml or hutch.json");
  file("clash/hutch.json", R"({"name":"f1","entry":"python3 main.py","functions":{"x":{}}})");
  file("clash/main.py", "print(1)\n");
  ok({"package", "push", scratch_ + "/clash"});  // f1.x does not clash with f1

  file("badjson/hutch.json", R"({"name":"p","entry":"python3 main.py","functions":{"a":{}})");
  file("badjson/main.py", "print(1)\n");
  refused({"package", "push", scratch_ + "/badjson"}, "package push: hutch.json: not valid JSON");
  file("badkey/hutch.json", R"({"name":"p","entry":"python3 main.py","functions":{"a":{"timout":5}}})");
  file("badkey/main.py", "print(1)\n");
  refused({"package", "push", scratch_ + "/badkey"},
          "hutch.json: functions.a: unknown key 'timout'; use description, entry, timeout, memory, cpu");
  file("nofunctions/hutch.json", R"({"name":"p","entry":"python3 main.py","functions":{}})");
  file("nofunctions/main.py", "print(1)\n");
  refused({"package", "push", scratch_ + "/nofunctions"}, "hutch.json: functions: name at least one function");

  // A function of its own named like one the package would make: the push is refused and stores nothing.
  ok({"function", "create", "mine.x", "--entry", "python3 main.py", "--file", code});
  file("mine/hutch.json", R"({"name":"mine","entry":"python3 main.py","functions":{"x":{},"y":{}}})");
  file("mine/main.py", "print(1)\n");
  refused({"package", "push", scratch_ + "/mine"},
          "package push: mine.x exists as a function of its own; delete it first");
  EXPECT_EQ(hutch({"package", "show", "mine"}).exit_code(), 1) << "no package was stored";
  EXPECT_EQ(hutch({"function", "show", "mine.y"}).exit_code(), 1) << "none of its functions either";
  EXPECT_THAT(ok({"function", "show", "mine.x"}), HasSubstr("entry:       python3 main.py"));
}

// `hutch package list`: one line per package, sorted, with its number of functions and its description.
TEST_F(UserFunctionsTest, PackageListNamesEveryPackageWithItsFunctionCount) {
  file("two/hutch.json",
       R"({"name":"two","description":"a pair","entry":"python3 main.py","functions":{"a":{},"b":{}}})");
  file("two/main.py", "print(1)\n");
  file("one/hutch.json", R"({"name":"one","description":"alone","entry":"python3 main.py","functions":{"a":{}}})");
  file("one/main.py", "print(1)\n");
  ok({"package", "push", scratch_ + "/two"});
  ok({"package", "push", scratch_ + "/one"});
  std::vector<std::vector<std::string>> rows;
  std::istringstream listed(ok({"package", "list"}));
  for (std::string line; std::getline(listed, line);) {
    std::istringstream words(line);
    std::vector<std::string> row;
    for (std::string word; words >> word;) row.push_back(word);
    rows.push_back(row);
  }
  EXPECT_EQ(rows, (std::vector<std::vector<std::string>>{
                      {"PACKAGE", "FUNCTIONS", "DESCRIPTION"}, {"one", "1", "alone"}, {"two", "2", "a", "pair"}}));
  ok({"package", "delete", "two"});
  EXPECT_THAT(ok({"package", "list"}), testing::Not(HasSubstr("two")));
}

cv::Mat decoded(const std::string &bytes) {
  return cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char *>(bytes.data())),
                      cv::IMREAD_UNCHANGED);
}

// What the Dataloop tutorial's functions compute, in OpenCV's C++ API, on the decoded input (BGR or BGRA).
cv::Mat gray_reference(const cv::Mat &image) {
  cv::Mat gray;
  cv::cvtColor(image, gray, image.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  return gray;
}

cv::Mat clahe_reference(const cv::Mat &image) {
  cv::Mat bgr, lab;
  if (image.channels() == 4) cv::cvtColor(image, bgr, cv::COLOR_BGRA2BGR); else bgr = image;
  cv::cvtColor(bgr, lab, cv::COLOR_BGR2Lab);
  std::vector<cv::Mat> planes;
  cv::split(lab, planes);
  cv::createCLAHE(2.0, cv::Size(8, 8))->apply(planes[0], planes[0]);
  cv::merge(planes, lab);
  cv::Mat result;
  cv::cvtColor(lab, result, cv::COLOR_Lab2BGR);
  return result;
}

// What the example writes for `image` under a name ending in `extension`: cv2.imencode and cv::imencode are
// the same OpenCV with the same defaults (JPEG quality 95), so even a lossy JPEG comes out the same.
cv::Mat through_codec(const cv::Mat &image, const std::string &extension) {
  std::vector<uchar> bytes;
  if (!cv::imencode(extension, image, bytes)) return {};
  return cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
}

// The largest difference of any channel of any pixel; -1 when the shapes differ.
double largest_difference(const cv::Mat &a, const cv::Mat &b) {
  if (a.size() != b.size() || a.type() != b.type()) return -1;
  return cv::norm(a, b, cv::NORM_INF);
}

// The two functions of one package must do different things: rgb2gray gives one channel, CLAHE keeps the
// colour; each matches, pixel for pixel, the same OpenCV calls made here and encoded the same way.
// Run at the default memory (256M), as the README runs them.
TEST_F(UserFunctionsTest, ImageProcessingPackageRunsBothFunctionsOnRealImages) {
  HUTCH_REQUIRE_ROOT();
  std::string pushed = ok({"package", "push", kExamples + "/image-processing"});
  EXPECT_THAT(pushed, HasSubstr("image-processing.rgb2gray"));
  EXPECT_THAT(pushed, HasSubstr("image-processing.clahe_equalization"));
  EXPECT_THAT(ok({"package", "show", "image-processing"}), HasSubstr("image-processing.clahe_equalization"));
  put_image("img:hamster", "hamster.jpg");
  put_image("img:toolbar", "toolbar_rgba.png");
  const cv::Mat hamster = decoded(read_file_text(kTestdata + "/hamster.jpg"));
  const cv::Mat toolbar = decoded(read_file_text(kTestdata + "/toolbar_rgba.png"));
  ASSERT_EQ(hamster.channels(), 3);
  ASSERT_EQ(toolbar.channels(), 4);
  std::map<std::string, std::map<std::string, cv::Mat>> results;  // function -> file -> decoded output
  for (const char *function : {"rgb2gray", "clahe_equalization"}) {
    Fields record = run_job({{"function", std::string("image-processing.") + function},
                             {"files", R"({"hamster.jpg":"img:hamster","toolbar.png":"img:toolbar"})"}},
                            60s);
    ASSERT_EQ(record["status"], "succeeded") << function << ": " << describe_fields(record) << "\n" << logs_of(record["id"]);
    EXPECT_EQ(record["memory_limit"], std::to_string(256 << 20)) << "the default memory";
    EXPECT_EQ(record["output"], R"({"processed": ["hamster.jpg", "toolbar.png"]})");
    std::string jpeg = redis().command({"GET", "hutch:out:" + record["id"] + "/hamster.jpg"}).text;
    EXPECT_EQ(jpeg.substr(0, 2), "\xff\xd8") << "a JPEG comes back as a JPEG";
    std::string png = redis().command({"GET", "hutch:out:" + record["id"] + "/toolbar.png"}).text;
    EXPECT_EQ(png.substr(1, 3), "PNG");
    results[function] = {{"hamster.jpg", decoded(jpeg)}, {"toolbar.png", decoded(png)}};
  }
  const auto &gray = results["rgb2gray"], &clahe = results["clahe_equalization"];
  EXPECT_EQ(gray.at("hamster.jpg").channels(), 1) << "rgb2gray: a grayscale JPEG";
  EXPECT_EQ(gray.at("toolbar.png").channels(), 1) << "rgb2gray: a grayscale PNG, alpha dropped";
  EXPECT_EQ(largest_difference(gray.at("toolbar.png"), gray_reference(toolbar)), 0);
  EXPECT_EQ(largest_difference(gray.at("hamster.jpg"), through_codec(gray_reference(hamster), ".jpg")), 0);

  EXPECT_EQ(clahe.at("hamster.jpg").channels(), 3) << "CLAHE keeps the colour";
  EXPECT_EQ(clahe.at("toolbar.png").channels(), 3) << "the example equalizes BGR and drops alpha";
  EXPECT_EQ(largest_difference(clahe.at("toolbar.png"), clahe_reference(toolbar)), 0);
  EXPECT_EQ(largest_difference(clahe.at("hamster.jpg"), through_codec(clahe_reference(hamster), ".jpg")), 0);
  std::vector<cv::Mat> planes;
  cv::split(clahe.at("hamster.jpg"), planes);
  EXPECT_GT(cv::norm(planes[0], planes[2], cv::NORM_INF), 32) << "blue and red still differ: a colour image";

  ok({"package", "delete", "image-processing"});
  EXPECT_EQ(run_job({{"function", "image-processing.rgb2gray"}})["status"], "rejected");
}

// The Qinling cookbook's default: a quarter of each side, rounded as Python's round() does (half to even),
// at the default memory, as the README runs it.
TEST_F(UserFunctionsTest, ResizeImageExampleMakesAQuarterSizeThumbnail) {
  HUTCH_REQUIRE_ROOT();
  ok({"function", "create", "resize-image", "--entry", "python3 main.py", "--package", kExamples + "/resize-image",
      "--timeout", "30"});
  put_image("img:apple", "apple.jpg");
  const cv::Mat apple = decoded(read_file_text(kTestdata + "/apple.jpg"));
  ASSERT_FALSE(apple.empty());
  const int width = static_cast<int>(std::nearbyint(apple.cols * 0.25));
  const int height = static_cast<int>(std::nearbyint(apple.rows * 0.25));
  Fields record = run_job({{"function", "resize-image"}, {"files", R"({"apple.jpg":"img:apple"})"}}, 60s);
  ASSERT_EQ(record["status"], "succeeded") << describe_fields(record) << "\n" << logs_of(record["id"]);
  EXPECT_EQ(record["memory_limit"], std::to_string(256 << 20)) << "the default memory";
  nlohmann::json output = nlohmann::json::parse(record["output"]);
  EXPECT_EQ(output["thumbnails"], (nlohmann::json::array({{{"name", "apple.jpg"}, {"width", width}, {"height", height}}})));
  cv::Mat thumbnail = decoded(redis().command({"GET", "hutch:out:" + record["id"] + "/apple.jpg"}).text);
  ASSERT_FALSE(thumbnail.empty());
  EXPECT_EQ(thumbnail.cols, width) << "a quarter of " << apple.cols;
  EXPECT_EQ(thumbnail.rows, height) << "a quarter of " << apple.rows;
  EXPECT_EQ(thumbnail.channels(), apple.channels());
}

}  // namespace
}  // namespace hutch::test
