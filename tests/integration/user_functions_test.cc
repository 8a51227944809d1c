// User functions and packages (docs/functions.md): registered with the hutch CLI, stored in Redis, run by a
// real hutchd from its package cache. Uses the repo's examples/ and ../shared/testdata images.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <cstring>
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/hutch_test.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;
namespace fs = std::filesystem;

const std::string kExamples = HUTCH_EXAMPLES_DIR;
const std::string kTestdata = HUTCH_TESTDATA_DIR;

class UserFunctionsTest : public HutchTest {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/hutch-user-functions-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    scratch_ = pattern;
    HutchTest::SetUp();
  }
  void TearDown() override {
    HutchTest::TearDown();
    fs::remove_all(scratch_);
  }
  HutchdOptions hutchd_options() override {
    HutchdOptions options = HutchTest::hutchd_options();
    options.extra_args = {"--cache-dir", scratch_ + "/cache"};
    return options;
  }
  CommandResult hutch(std::vector<std::string> args) {
    args.insert(args.begin(), {hutch_cli_path(), "--redis", redis_server().url()});
    return run_command(args, 60s);
  }
  // Runs `hutch ...` and expects exit 0.
  std::string ok(std::vector<std::string> args) {
    CommandResult result = hutch(args);
    EXPECT_EQ(result.exit_code(), 0) << "hutch " << testing::PrintToString(args) << "\n" << result.out << result.err;
    return result.out;
  }
  std::string file(const std::string &name, const std::string &content, mode_t mode = 0644) {
    std::string path = scratch_ + "/" + name;
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }
  void put_image(const std::string &key, const std::string &name) {
    ASSERT_EQ(redis().command({"SET", key, read_file_text(kTestdata + "/" + name)}).text, "OK");
  }

  // The execution's log lines, for failure messages.
  std::string logs_of(const std::string &id) {
    std::string text;
    for (const StreamEntry &entry : redis().xrange(RedisClient::logs_key(id))) text += entry.get("line") + "\n";
    return text;
  }

  std::string scratch_;
};

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
}

TEST_F(UserFunctionsTest, ImageProcessingPackageRunsBothFunctionsOnRealImages) {
  HUTCH_REQUIRE_ROOT();
  std::string pushed = ok({"package", "push", kExamples + "/image-processing"});
  EXPECT_THAT(pushed, HasSubstr("image-processing.rgb2gray"));
  EXPECT_THAT(pushed, HasSubstr("image-processing.clahe_equalization"));
  EXPECT_THAT(ok({"package", "show", "image-processing"}), HasSubstr("image-processing.clahe_equalization"));
  put_image("img:hamster", "hamster.jpg");
  put_image("img:toolbar", "toolbar_rgba.png");
  for (const char *function : {"image-processing.rgb2gray", "image-processing.clahe_equalization"}) {
    Fields record = run_job({{"function", function},
                             {"files", R"({"hamster.jpg":"img:hamster","toolbar.png":"img:toolbar"})"},
                             {"memory", "512M"}},
                            60s);
    ASSERT_EQ(record["status"], "succeeded") << function << ": " << record["error"] << "\n" << logs_of(record["id"]);
    EXPECT_EQ(record["output"], R"({"processed": ["hamster.jpg", "toolbar.png"]})");
    std::string gray = redis().command({"GET", "hutch:out:" + record["id"] + "/hamster.jpg"}).text;
    EXPECT_EQ(gray.substr(0, 2), "\xff\xd8") << "a JPEG comes back as a JPEG";
    std::string png = redis().command({"GET", "hutch:out:" + record["id"] + "/toolbar.png"}).text;
    EXPECT_EQ(png.substr(1, 3), "PNG");
  }
  ok({"package", "delete", "image-processing"});
  EXPECT_EQ(run_job({{"function", "image-processing.rgb2gray"}})["status"], "rejected");
}

TEST_F(UserFunctionsTest, ResizeImageExampleMakesAQuarterSizeThumbnail) {
  HUTCH_REQUIRE_ROOT();
  ok({"function", "create", "resize-image", "--entry", "python3 main.py", "--package", kExamples + "/resize-image",
      "--timeout", "30", "--memory", "512M"});
  put_image("img:apple", "apple.jpg");
  Fields record = run_job({{"function", "resize-image"}, {"files", R"({"apple.jpg":"img:apple"})"}}, 60s);
  ASSERT_EQ(record["status"], "succeeded") << record["error"] << "\n" << logs_of(record["id"]);
  nlohmann::json output = nlohmann::json::parse(record["output"]);
  ASSERT_EQ(output["thumbnails"].size(), 1u);
  EXPECT_GT(output["thumbnails"][0]["width"].get<int>(), 0);
  EXPECT_FALSE(redis().command({"GET", "hutch:out:" + record["id"] + "/apple.jpg"}).text.empty());
}

}  // namespace
}  // namespace hutch::test
