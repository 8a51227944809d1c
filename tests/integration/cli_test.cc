// The `hutch` CLI against a real hutchd: what a user types and what they read back.
#include <nlohmann/json.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/hutch_test.h"
#include "tests/support/record_checks.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;

class CliTest : public HutchTest {
 protected:
  CommandResult hutch(std::vector<std::string> args, std::chrono::milliseconds timeout = 30s) {
    args.insert(args.begin(), {hutch_cli_path(), "--redis", redis_server().url()});
    return run_command(args, timeout);
  }
};

std::string explain(const CommandResult &result) {
  return "exit: " + describe_wait_status(result.wait_status) + (result.timed_out ? " (timed out)" : "") +
         "\nstdout:\n" + result.out + "\nstderr:\n" + result.err;
}

TEST_F(CliTest, SubmitWaitPrintsTheOutputAndExitsZero) {
  CommandResult submitted = hutch({"submit", "hello", "--input", R"({"name":"Ada"})", "--wait"});
  EXPECT_EQ(submitted.exit_code(), 0) << explain(submitted);
  EXPECT_THAT(submitted.out, HasSubstr("Hello, Ada")) << explain(submitted);

  std::vector<std::string> ids = execution_ids_in(submitted.out);
  ASSERT_FALSE(ids.empty()) << "submit prints the execution id\n" << explain(submitted);
  Fields record = redis().record(ids.front());
  EXPECT_EQ(record["status"], "succeeded") << "--wait returned before the final record";
  EXPECT_EQ(record["output"], "\"Hello, Ada\"");
}

TEST_F(CliTest, SubmitWaitExitsOneWhenTheJobFails) {
  CommandResult submitted = hutch({"submit", "hello", "--input", R"({"name":42})", "--wait"});
  EXPECT_EQ(submitted.exit_code(), 1) << explain(submitted);
  EXPECT_THAT(submitted.out + submitted.err, HasSubstr("failed")) << explain(submitted);
}

TEST_F(CliTest, SubmitWithoutWaitPrintsOnlyTheId) {
  CommandResult submitted = hutch({"submit", "hello", "--timeout", "2", "--memory", "64M", "--cpu", "0.5"});
  ASSERT_EQ(submitted.exit_code(), 0) << explain(submitted);
  std::vector<std::string> ids = execution_ids_in(submitted.out);
  ASSERT_EQ(ids.size(), 1u) << explain(submitted);
  Fields record = redis().wait_for_final(ids[0], 15s);
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
  EXPECT_EQ(parse_decimal_text(record["timeout"]), 2.0);
  EXPECT_EQ(record["memory_limit"], std::to_string(64ULL << 20));
  EXPECT_EQ(parse_decimal_text(record["cpu_limit"]), 0.5);
}

TEST_F(CliTest, StatusJsonIsOneObjectWithNumbersAsNumbers) {
  std::string id = redis().xadd_job({{"function", "hello"}, {"input", R"({"name":"Ada"})"}});
  ASSERT_EQ(redis().wait_for_final(id, 15s)["status"], "succeeded");

  CommandResult status = hutch({"status", id, "--json"});
  ASSERT_EQ(status.exit_code(), 0) << explain(status);
  nlohmann::json parsed = nlohmann::json::parse(status.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(parsed.is_object()) << explain(status);
  EXPECT_EQ(parsed.value("status", ""), "succeeded");
  EXPECT_EQ(parsed.value("id", ""), id);
  EXPECT_EQ(parsed.value("function", ""), "hello");
  EXPECT_TRUE(parsed["duration"].is_number()) << parsed.dump();
  EXPECT_TRUE(parsed["memory_limit"].is_number()) << parsed.dump();
  EXPECT_TRUE(parsed["exit_code"].is_number()) << parsed.dump();

  CommandResult plain = hutch({"status", id});
  EXPECT_EQ(plain.exit_code(), 0) << explain(plain);
  EXPECT_THAT(plain.out, HasSubstr("succeeded")) << explain(plain);
}

TEST_F(CliTest, StatusOfAJobNotYetTakenIsQueued) {
  ASSERT_TRUE(hutchd().stop(SIGTERM, 20s).has_value());
  std::string id = redis().xadd_job({{"function", "hello"}});
  CommandResult status = hutch({"status", id, "--json"});
  ASSERT_EQ(status.exit_code(), 0) << explain(status);
  nlohmann::json parsed = nlohmann::json::parse(status.out, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << explain(status);
  EXPECT_EQ(parsed.value("status", ""), "queued") << explain(status);
}

TEST_F(CliTest, StatusOfAnUnknownIdSaysSoAndExitsOne) {
  CommandResult status = hutch({"status", "0-1"});
  EXPECT_EQ(status.exit_code(), 1) << explain(status);
  EXPECT_THAT(status.out + status.err, HasSubstr("no execution 0-1")) << explain(status);
}

TEST_F(CliTest, LogsPrintsTheLinesLogged) {
  std::string id = redis().xadd_job({{"function", "hello"}, {"input", R"({"name":"Grace"})"}});
  ASSERT_EQ(redis().wait_for_final(id, 15s)["status"], "succeeded");
  CommandResult logs = hutch({"logs", id});
  EXPECT_EQ(logs.exit_code(), 0) << explain(logs);
  EXPECT_THAT(logs.out, HasSubstr("Hello, Grace")) << explain(logs);
}

TEST_F(CliTest, LsListsTheNewestExecutionsFirst) {
  std::string older = redis().xadd_job({{"function", "hello"}});
  ASSERT_EQ(redis().wait_for_final(older, 15s)["status"], "succeeded");
  std::string newer = redis().xadd_job({{"function", "hello"}, {"input", R"({"name":"Ada"})"}});
  ASSERT_EQ(redis().wait_for_final(newer, 15s)["status"], "succeeded");

  CommandResult listed = hutch({"ls", "--limit", "5"});
  ASSERT_EQ(listed.exit_code(), 0) << explain(listed);
  std::vector<std::string> ids = execution_ids_in(listed.out);
  EXPECT_THAT(ids, testing::ElementsAre(newer, older)) << explain(listed);

  CommandResult limited = hutch({"ls", "--limit", "1"});
  EXPECT_THAT(execution_ids_in(limited.out), testing::ElementsAre(newer)) << explain(limited);
}

}  // namespace
}  // namespace hutch::test
