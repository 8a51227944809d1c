#include "catalog/registry.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace hutch {
namespace {

// A scratch directory with an executable script, a non-executable file and a subdirectory.
class RegistryTest : public testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/hutch-registry-test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    directory_ = pattern;
    executable_ = directory_ + "/tool";
    plain_ = directory_ + "/plain";
    std::ofstream(executable_) << "#!/bin/sh\nexit 0\n";
    std::ofstream(plain_) << "data\n";
    ASSERT_EQ(::chmod(executable_.c_str(), 0755), 0);
    ASSERT_EQ(::chmod(plain_.c_str(), 0644), 0);
  }
  void TearDown() override {
    ::unlink(executable_.c_str());
    ::unlink(plain_.c_str());
    ::rmdir(directory_.c_str());
  }

  std::string directory_, executable_, plain_;
};

TEST(FunctionName, Rules) {
  EXPECT_TRUE(is_valid_function_name("hello"));
  EXPECT_TRUE(is_valid_function_name("9lives"));
  EXPECT_TRUE(is_valid_function_name("a.b-c_d"));
  EXPECT_TRUE(is_valid_function_name(std::string(64, 'x')));
  EXPECT_FALSE(is_valid_function_name(""));
  EXPECT_FALSE(is_valid_function_name(std::string(65, 'x')));
  EXPECT_FALSE(is_valid_function_name("-flag"));
  EXPECT_FALSE(is_valid_function_name(".hidden"));
  EXPECT_FALSE(is_valid_function_name("has space"));
  EXPECT_FALSE(is_valid_function_name("slash/name"));
}

TEST_F(RegistryTest, BuiltinsRunThroughHutchFn) {
  FunctionRegistry registry;
  ASSERT_TRUE(registry.add_builtins(executable_));
  const FunctionSpec *hello = registry.find("hello");
  ASSERT_NE(hello, nullptr);
  EXPECT_TRUE(hello->builtin);
  EXPECT_EQ(hello->executable, executable_);
  EXPECT_EQ(hello->argv, (std::vector<std::string>{executable_, "hello"}));
  EXPECT_EQ(registry.names(), builtin_function_names());
  EXPECT_EQ(registry.find("nope"), nullptr);
}

TEST_F(RegistryTest, BuiltinsNeedAnExecutableHutchFn) {
  FunctionRegistry registry;
  auto added = registry.add_builtins(directory_ + "/missing");
  ASSERT_FALSE(added);
  EXPECT_NE(added.error().message.find("missing"), std::string::npos) << added.error().message;
}

TEST_F(RegistryTest, LocalFunction) {
  FunctionRegistry registry;
  ASSERT_TRUE(registry.add_builtins(executable_));
  ASSERT_TRUE(registry.add_local_from_flag("balloon=" + executable_));
  const FunctionSpec *balloon = registry.find("balloon");
  ASSERT_NE(balloon, nullptr);
  EXPECT_FALSE(balloon->builtin);
  EXPECT_EQ(balloon->argv, (std::vector<std::string>{executable_}));
  EXPECT_EQ(registry.names(), (std::vector<std::string>{"balloon", "hello", "sleep"}));
}

TEST_F(RegistryTest, LocalFunctionErrorsNameTheProblem) {
  FunctionRegistry registry;
  auto expect_error = [&](const std::string &flag, const std::string &fragment) {
    auto added = registry.add_local_from_flag(flag);
    ASSERT_FALSE(added) << flag;
    EXPECT_NE(added.error().message.find(fragment), std::string::npos) << added.error().message;
  };
  expect_error("hello=" + executable_, "function 'hello' is a built-in and cannot be replaced");
  expect_error("bad name=" + executable_, "'bad name' is not valid");
  expect_error("tool=relative/path", "'relative/path' is not absolute");
  expect_error("tool=" + directory_, "'" + directory_ + "' is not a regular file");
  expect_error("tool=" + directory_ + "/missing", "No such file or directory");
  expect_error("no-equals-sign", "is not NAME=PATH");
  if (::geteuid() != 0) expect_error("tool=" + plain_, "is not executable");
  ASSERT_TRUE(registry.add_local("tool", executable_));
  expect_error("tool=" + executable_, "function 'tool' is given twice");
}

TEST_F(RegistryTest, ImageFunctionsRunThroughHutchImage) {
  FunctionRegistry registry;
  ASSERT_TRUE(registry.add_builtins(executable_));
  ASSERT_TRUE(registry.add_image_builtins(executable_));
  for (const auto &name : image_function_names()) {
    const FunctionSpec *spec = registry.find(name);
    ASSERT_NE(spec, nullptr) << name;
    EXPECT_TRUE(spec->builtin);
    EXPECT_EQ(spec->argv, (std::vector<std::string>{executable_, name}));
    EXPECT_EQ(registry.unavailable_reason(name), nullptr);
  }
  EXPECT_EQ(registry.names(),
            (std::vector<std::string>{"clahe_equalization", "hello", "resize_image", "rgb2gray", "sleep"}));
  auto replaced = registry.add_local("rgb2gray", executable_);
  ASSERT_FALSE(replaced);
  EXPECT_NE(replaced.error().message.find("'rgb2gray' is a built-in"), std::string::npos) << replaced.error().message;
}

TEST_F(RegistryTest, WithoutHutchImageTheImageFunctionsAreUnavailableWithAReason) {
  FunctionRegistry registry;
  ASSERT_TRUE(registry.add_builtins(executable_));
  auto added = registry.add_image_builtins(directory_ + "/hutch-image");
  ASSERT_FALSE(added);
  EXPECT_NE(added.error().message.find("No such file or directory"), std::string::npos) << added.error().message;
  EXPECT_EQ(registry.names(), builtin_function_names()) << "hello and sleep still run";
  for (const auto &name : image_function_names()) {
    EXPECT_EQ(registry.find(name), nullptr);
    const std::string *reason = registry.unavailable_reason(name);
    ASSERT_NE(reason, nullptr) << name;
    EXPECT_NE(reason->find("function: '" + name + "' is a built-in image function, but this hutchd has no "
                           "hutch-image"), std::string::npos) << *reason;
    EXPECT_NE(reason->find("--hutch-image PATH"), std::string::npos) << *reason;
  }
  // Even then the names stay reserved: a local function cannot take one.
  EXPECT_FALSE(registry.add_local("resize_image", executable_));
  EXPECT_EQ(registry.unavailable_reason("hello"), nullptr);
}

TEST_F(RegistryTest, SeccompAllowListsAccumulateSortedWithoutRepeats) {
  FunctionRegistry registry;
  ASSERT_TRUE(registry.add_builtins(executable_));
  EXPECT_TRUE(registry.find("hello")->seccomp_allow.empty());
  ASSERT_TRUE(registry.allow_syscalls("hello", {"quotactl", "acct"}));
  ASSERT_TRUE(registry.allow_syscalls("hello", {"acct", "syslog"}));
  EXPECT_EQ(registry.find("hello")->seccomp_allow, (std::vector<std::string>{"acct", "quotactl", "syslog"}));
  EXPECT_TRUE(registry.find("sleep")->seccomp_allow.empty()) << "one function's list is its own";
  auto unknown = registry.allow_syscalls("nope", {"acct"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "function 'nope' is not registered; the functions are hello, sleep");
}

TEST_F(RegistryTest, RootStillNeedsAnExecuteBit) {
  // access(X_OK) as root succeeds for a regular file only when some execute bit is set.
  FunctionRegistry registry;
  auto added = registry.add_local("plain", plain_);
  ASSERT_FALSE(added);
  EXPECT_NE(added.error().message.find("'" + plain_ + "' is not executable"), std::string::npos)
      << added.error().message;
}

}  // namespace
}  // namespace hutch
