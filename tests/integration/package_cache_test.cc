// hutchd's package cache (docs/functions.md): a user function's code comes from Redis as a blob keyed by its
// SHA-256, is checked against that checksum, unpacked once per checksum into --cache-dir, and shown to the
// job read-only at /function. A blob that is missing or does not match never runs.
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/user_functions_fixture.h"
#include "tests/support/hutch_test.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;

class PackageCacheTest : public UserFunctionsTest {
 protected:
  // The package checksum `hutch function show` gives for `name`.
  std::string checksum_of(const std::string &name) {
    std::string shown = ok({"function", "show", name});
    const std::string label = "checksum:    sha256:";
    size_t at = shown.find(label);
    if (at == std::string::npos) return "";
    return shown.substr(at + label.size(), 64);
  }
  // The names in the cache directory, sorted.
  std::vector<std::string> cache_entries() {
    std::vector<std::string> names;
    std::error_code error;
    for (const auto &entry : fs::directory_iterator(scratch_ + "/cache", error))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  // A one-file function that prints a line.
  void create_echo(const std::string &name) {
    std::string script = file(name + "/run.sh", "#!/bin/sh\necho ran\n", 0755);
    ok({"function", "create", name, "--entry", "run.sh", "--file", script});
  }
};

TEST_F(PackageCacheTest, ABlobThatDoesNotMatchItsChecksumNeverRuns) {
  HUTCH_REQUIRE_ROOT();
  create_echo("tampered");
  const std::string sha256 = checksum_of("tampered");
  ASSERT_EQ(sha256.size(), 64u);
  ASSERT_EQ(redis().command({"SET", "hutch:blob:" + sha256, "#!/bin/sh\necho forged\n"}).text, "OK");
  Fields record = run_job({{"function", "tampered"}});
  EXPECT_EQ(record["status"], "rejected") << describe_fields(record);
  EXPECT_EQ(record["error"], "function 'tampered': its package: the stored package does not match its checksum " + sha256);
  EXPECT_FALSE(record.contains("isolation") || record.contains("exit_code")) << "no sandbox was started";
  EXPECT_EQ(cache_entries(), std::vector<std::string>{}) << "nothing was unpacked";
}

TEST_F(PackageCacheTest, AMissingBlobIsNamedAndNeverRuns) {
  HUTCH_REQUIRE_ROOT();
  create_echo("blobless");
  const std::string sha256 = checksum_of("blobless");
  ASSERT_EQ(redis().command({"DEL", "hutch:blob:" + sha256}).integer, 1);
  Fields record = run_job({{"function", "blobless"}});
  EXPECT_EQ(record["status"], "rejected") << describe_fields(record);
  EXPECT_EQ(record["error"], "function 'blobless': its package: hutch:blob:" + sha256 +
                                 " is missing from Redis; update the function with its code again");
  EXPECT_FALSE(record.contains("isolation") || record.contains("exit_code")) << "no sandbox was started";
  EXPECT_EQ(cache_entries(), std::vector<std::string>{});
}

// The job sees its package at /function and can change nothing there: not a new file, not its own code,
// not a directory, not a mode; the cached copy on the host is as unpacked.
TEST_F(PackageCacheTest, FunctionDirectoryIsReadOnlyInsideTheSandbox) {
  HUTCH_REQUIRE_ROOT();
  const std::string code =
      "import errno, json, os\n"
      "def attempt(action):\n"
      "    try:\n"
      "        action()\n"
      "        return 'ok'\n"
      "    except OSError as error:\n"
      "        return errno.errorcode[error.errno]\n"
      "report = {\n"
      "    'create': attempt(lambda: open('/function/new.txt', 'w').close()),\n"
      "    'append': attempt(lambda: open('/function/main.py', 'a').close()),\n"
      "    'mkdir': attempt(lambda: os.mkdir('/function/dir')),\n"
      "    'chmod': attempt(lambda: os.chmod('/function/main.py', 0o777)),\n"
      "    'listing': sorted(os.listdir('/function')),\n"
      "}\n"
      "with os.fdopen(3, 'w') as result:\n"
      "    json.dump(report, result)\n";
  file("readonly/main.py", code);
  ok({"function", "create", "readonly", "--entry", "python3 main.py", "--package", scratch_ + "/readonly"});
  Fields record = run_job({{"function", "readonly"}}, 60s);
  ASSERT_EQ(record["status"], "succeeded") << describe_fields(record) << "\n" << logs_of(record["id"]);
  nlohmann::json report = nlohmann::json::parse(record["output"], nullptr, false);
  // Whatever the permissions would allow, the mount says no: EROFS.
  for (const char *attempt : {"create", "mkdir", "chmod"})
    EXPECT_EQ(report.value(attempt, "?"), "EROFS") << attempt << ": " << record["output"];
  // The code is root's, mode 0644: opening it for writing fails on the permission check, which the kernel
  // makes before it looks at the mount.
  EXPECT_EQ(report.value("append", "?"), "EACCES") << record["output"];
  EXPECT_EQ(report["listing"], nlohmann::json::array({"main.py"}));
  const std::string cached = scratch_ + "/cache/" + checksum_of("readonly");
  EXPECT_EQ(read_file_text(cached + "/main.py"), code);
  EXPECT_FALSE(fs::exists(cached + "/new.txt"));
}

// Two functions of one package share one checksum: three jobs of theirs unpack it once, into one entry.
TEST_F(PackageCacheTest, APackageIsUnpackedOncePerChecksum) {
  HUTCH_REQUIRE_ROOT();
  file("pair/hutch.json", R"({"name":"pair","entry":"run.sh","functions":{"a":{},"b":{}}})");
  file("pair/run.sh", "#!/bin/sh\necho \"$HUTCH_FUNCTION\"\n", 0755);
  ok({"package", "push", scratch_ + "/pair"});
  const std::string sha256 = checksum_of("pair.a");
  ASSERT_EQ(checksum_of("pair.b"), sha256);
  for (const char *function : {"pair.a", "pair.b", "pair.a"}) {
    Fields record = run_job({{"function", function}});
    EXPECT_EQ(record["status"], "succeeded") << function << ": " << describe_fields(record);
  }
  EXPECT_EQ(cache_entries(), std::vector<std::string>{sha256});
  const std::string log = hutchd().log_text();
  size_t unpacked = 0;
  for (size_t at = log.find(" unpacked into "); at != std::string::npos; at = log.find(" unpacked into ", at + 1))
    ++unpacked;
  EXPECT_EQ(unpacked, 1u) << log;
}

}  // namespace
}  // namespace hutch::test
