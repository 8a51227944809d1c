// The CLI pointed at hostile data (issue 10, finding 6): a job's escape sequences reached the operator's
// terminal raw through `hutch logs`, `status` and `ls`, and a deeply nested JSON output made
// `hutch status --json` crash. Every printer shows control characters as escapes unless --raw is given, and
// no input chooses a recursion depth.
#include <nlohmann/json.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/hutch_test.h"
#include "tests/support/record_checks.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;
using testing::Not;

class CliTerminalTest : public HutchTest {
 protected:
  void SetUp() override {
    scratch_ = std::make_unique<TempDir>("/tmp/hutch-cli-terminal");
    HutchTest::SetUp();
  }
  HutchdOptions hutchd_options() override {
    HutchdOptions options = HutchTest::hutchd_options();
    options.functions.emplace_back("terminal_attack", TERMINAL_ATTACK_PATH);
    return options;
  }
  CommandResult hutch(std::vector<std::string> args) { return run_hutch(std::move(args)); }
  std::string file(const std::string &name, const std::string &content) { return write_file_in(*scratch_, name, content); }
  void expect_hutchd_still_serves() {
    ASSERT_TRUE(hutchd().running()) << "hutchd must survive the job";
    EXPECT_EQ(run_job({{"function", "hello"}})["status"], "succeeded") << "a normal job right after";
  }

  std::unique_ptr<TempDir> scratch_;
};

std::string explain(const CommandResult &result) {
  return "exit: " + describe_wait_status(result.wait_status) + (result.timed_out ? " (timed out)" : "") +
         "\nstdout:\n" + result.out + "\nstderr:\n" + result.err;
}

// What a terminal would obey: C0 controls but tab and newline, DEL, C1 controls (raw or as UTF-8) and the
// bidi overrides. The text around them must still be there, as escapes.
void expect_no_control_characters(const std::string &printed, const std::string &what) {
  for (unsigned char c : printed) {
    bool control = (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f;
    ASSERT_FALSE(control) << what << " printed the control character " << static_cast<int>(c) << ":\n" << printed;
  }
  EXPECT_THAT(printed, Not(HasSubstr("\xc2\x9b"))) << what << " printed a C1 CSI";
  EXPECT_THAT(printed, Not(HasSubstr("\xe2\x80\xae"))) << what << " printed a right-to-left override";
}

TEST_F(CliTerminalTest, LogsStatusAndLsShowControlCharactersAsEscapes) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "terminal_attack"}, {"input", R"({"lines":true,"file_name":true})"}});
  ASSERT_EQ(record["status"], "failed") << "an output file with an escape sequence in its name fails the job: "
                                        << describe_fields(record);
  ASSERT_THAT(record["error"], HasSubstr("\x1b]0;owned")) << "the record keeps the name as the function made it";
  const std::string id = record["id"];

  for (std::vector<std::string> logs : {std::vector<std::string>{"logs", id}, {"logs", id, "-f"}}) {
    CommandResult printed = hutch(logs);
    ASSERT_EQ(printed.exit_code(), 0) << explain(printed);
    expect_no_control_characters(printed.out + printed.err, testing::PrintToString(logs));
    EXPECT_THAT(printed.out, HasSubstr("title \\x1b]0;owned\\x07 set")) << explain(printed);
    EXPECT_THAT(printed.out, HasSubstr("carriage\\rreturn")) << explain(printed);
    EXPECT_THAT(printed.out, HasSubstr("c1 \\u009b31m csi")) << explain(printed);
    EXPECT_THAT(printed.out, HasSubstr("bidi \\u202e reversed")) << explain(printed);
    EXPECT_THAT(printed.out, HasSubstr("tab\tkept")) << "a tab is shown as it is";
    EXPECT_THAT(printed.err, HasSubstr("stderr \\x1b[31mred\\x1b[0m")) << explain(printed);
  }
  CommandResult raw = hutch({"logs", id, "--raw"});
  ASSERT_EQ(raw.exit_code(), 0) << explain(raw);
  EXPECT_THAT(raw.out, HasSubstr("title \x1b]0;owned\x07 set")) << "--raw prints the bytes as logged";

  CommandResult status = hutch({"status", id});
  ASSERT_EQ(status.exit_code(), 0) << explain(status);
  expect_no_control_characters(status.out, "status");
  EXPECT_THAT(status.out, HasSubstr("evil\\x1b]0;owned\\x07.txt")) << explain(status);
  CommandResult json = hutch({"status", id, "--json"});
  ASSERT_EQ(json.exit_code(), 0) << explain(json);
  expect_no_control_characters(json.out, "status --json");
  nlohmann::json parsed = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << explain(json);
  EXPECT_EQ(parsed.value("error", ""), record["error"]) << "JSON escapes keep the value exact";

  // A job's function field holds whatever was sent: ls and status show it escaped.
  Fields named = run_job({{"function", "\x1b[31mred\x1b]0;owned\x07"}});
  ASSERT_EQ(named["status"], "rejected");
  CommandResult listed = hutch({"ls"});
  ASSERT_EQ(listed.exit_code(), 0) << explain(listed);
  expect_no_control_characters(listed.out, "ls");
  EXPECT_THAT(listed.out, HasSubstr("\\x1b[31mred\\x1b]0;owned\\x07")) << explain(listed);
  expect_hutchd_still_serves();
}

// `logs -f` without an id follows every execution, each line prefixed with its id and function.
TEST_F(CliTerminalTest, FollowingEveryExecutionShowsEscapes) {
  HUTCH_REQUIRE_ROOT();
  std::string output = scratch_->path() + "/follow.txt";
  std::string error;
  pid_t follower = spawn_process({hutch_cli_path(), "--redis", redis_server().url(), "logs", "-f"}, {}, output,
                                 /*die_with_parent=*/true, &error);
  ASSERT_GT(follower, 0) << error;
  // The follower subscribes first; a job started before that would be missed, so give it jobs until it
  // prints one (bounded).
  std::string printed;
  for (int attempt = 0; attempt < 10 && printed.find("bidi") == std::string::npos; ++attempt) {
    run_job({{"function", "terminal_attack"}, {"input", R"({"lines":true})"}});
    printed = read_file_text(output);
  }
  stop_process(follower, SIGTERM, 5s);
  printed = read_file_text(output);
  ASSERT_THAT(printed, HasSubstr("terminal_attack: title \\x1b]0;owned\\x07 set")) << printed;
  expect_no_control_characters(printed, "logs -f");
  expect_hutchd_still_serves();
}

// Descriptions as an attacker with redis-cli writes them (the CLI itself refuses control characters in a
// definition, and hutchd a definition holding them): every printer shows them escaped.
TEST_F(CliTerminalTest, FunctionAndPackageDescriptionsShowEscapes) {
  const std::string hostile = "\x1b]0;owned\x07\x1b[2J";
  CommandResult created = hutch({"function", "create", "described", "--entry", "sh run.sh", "--file",
                                 file("run.sh", "echo hi\n"), "--description", "plain"});
  ASSERT_EQ(created.exit_code(), 0) << explain(created);
  ASSERT_FALSE(redis().command({"HSET", "hutch:fn:described", "description", hostile}).is_error());
  ASSERT_FALSE(redis().command({"HSET", "hutch:pkg:hostile", "name", "hostile", "description", hostile, "functions",
                                R"(["described"])"}).is_error());
  ASSERT_FALSE(redis().command({"SADD", "hutch:pkgs", "hostile"}).is_error());

  for (std::vector<std::string> args : {std::vector<std::string>{"function", "show", "described"},
                                        {"function", "list"}, {"package", "show", "hostile"}, {"package", "list"}}) {
    CommandResult shown = hutch(args);
    expect_no_control_characters(shown.out + shown.err, testing::PrintToString(args));
    EXPECT_THAT(shown.out + shown.err, HasSubstr("\\x1b]0;owned\\x07")) << explain(shown);
  }
  CommandResult raw = hutch({"package", "show", "hostile", "--raw"});
  EXPECT_THAT(raw.out, HasSubstr(hostile)) << explain(raw);
}

// A 400,000-deep array is valid JSON under 1 MiB. Parsed into a tree and printed recursively it overflowed
// the CLI's stack; now a value nested deeper than the CLI prints is kept as the text it is.
TEST_F(CliTerminalTest, StatusJsonOfADeeplyNestedOutputIsValidJson) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "terminal_attack"}, {"input", R"({"depth":400000})"}});
  ASSERT_EQ(record["status"], "succeeded") << record["error"];
  ASSERT_EQ(record["output"].size(), 800000u);
  const std::string id = record["id"];

  CommandResult json = hutch({"status", id, "--json"});
  ASSERT_EQ(json.exit_code(), 0) << explain(json).substr(0, 2000);
  nlohmann::json parsed = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << json.out.substr(0, 200);
  ASSERT_TRUE(parsed["output"].is_string()) << "too deep to embed: kept as text";
  EXPECT_EQ(parsed["output"].get<std::string>(), record["output"]);
  EXPECT_EQ(parsed.value("status", ""), "succeeded");

  CommandResult text = hutch({"status", id});
  EXPECT_EQ(text.exit_code(), 0) << explain(text).substr(0, 2000);

  // The same output from a function that fails: hutchd reads it for an {"error": ...} sentence.
  Fields failed = run_job({{"function", "terminal_attack"}, {"input", R"({"depth":400000,"exit":3})"}});
  EXPECT_EQ(failed["status"], "failed") << failed["error"];
  CommandResult failed_json = hutch({"status", failed["id"], "--json"});
  EXPECT_EQ(failed_json.exit_code(), 0) << explain(failed_json).substr(0, 2000);
  expect_hutchd_still_serves();
}

}  // namespace
}  // namespace hutch::test
