// The fixture of the user function tests (user_functions_test.cc, package_cache_test.cc): a real hutchd with a
// package cache of its own in a scratch directory, and the hutch CLI run as a user would.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/hutch_test.h"

namespace hutch::test {

namespace fs = std::filesystem;

inline const std::string kExamples = HUTCH_EXAMPLES_DIR;
inline const std::string kTestdata = HUTCH_TESTDATA_DIR;

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

}  // namespace hutch::test
