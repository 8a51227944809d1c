// The control plane's attacks (issue 10): what someone who can write hutch's keys in Redis, with nothing but
// redis-cli, tries against hutchd itself. Each test ends like the sandbox attacks: hutchd still answers and a
// normal job right after succeeds.
#include <regex>
#include <sstream>

#include "gmock/gmock.h"
#include "tests/security/control_plane.h"
#include "tests/support/record_checks.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;
using testing::Not;

// Every line of hutchd's log is "<time> <LEVEL> <message>"; none starts with the forged time.
void expect_one_line_per_event(const std::string &log) {
  static const std::regex kLine(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARN|ERROR) .*)");
  std::istringstream lines(log);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    EXPECT_TRUE(std::regex_match(line, kLine)) << "a line of hutchd's log that is not one event: '" << line << "'";
    EXPECT_FALSE(line.starts_with("2026-01-01T00:00:00.000Z")) << "a forged line: " << line;
  }
  EXPECT_GT(count, 0);
  EXPECT_EQ(log.find('\x1b'), std::string::npos) << "a raw ESC reached hutchd's log";
}

// Finding 3: a newline in a job's function name or in a stored function's entry wrote a line of its own, with
// its own time and level, into hutchd's journal. log.cc escapes every message, so each event stays one line.
TEST_F(ControlPlaneTest, ControlCharactersInStoredFieldsCannotForgeLogLines) {
  HUTCH_REQUIRE_ROOT();
  const std::string forged = "\n2026-01-01T00:00:00.000Z ERROR forged\x1b]0;owned\x07";

  Fields by_name = run_job({{"function", "hello" + forged}});
  EXPECT_EQ(by_name["status"], "rejected") << describe_fields(by_name);

  put_function("forge", "sh run.sh", {{"run.sh", "echo hi\n"}});
  ASSERT_EQ(redis().command({"HSET", "hutch:fn:forge", "entry", "x" + forged}).type, Reply::Type::kInteger);
  std::string id = redis().xadd_job({{"function", "forge"}});
  Fields by_entry = redis().wait_for_final(id, 30s);
  EXPECT_NE(by_entry["status"], "succeeded") << describe_fields(by_entry);
  ASSERT_TRUE(hutchd().wait_for_log("job " + id + ":", 5s)) << "hutchd logs why the function could not run";

  std::string log = hutchd().log_text();
  expect_one_line_per_event(log);
  EXPECT_THAT(log, HasSubstr("2026-01-01T00:00:00.000Z ERROR forged")) << "the text is kept, on the event's line";
  EXPECT_THAT(log, HasSubstr("\\x1b]0;owned\\x07"));
  expect_hutchd_still_serves();
}

// hutchd as a confused deputy: it reads a job's input keys and writes its output keys with its own Redis
// rights, which reach keys a submitter's cannot (a function's code in hutch:blob:*, definitions, records).
// Under hutch:, a job's input may only be an upload or an earlier output, never another of hutch's keys.
TEST_F(ControlPlaneTest, InputFilesCannotNameHutchsOwnKeys) {
  HUTCH_REQUIRE_ROOT();
  const std::string blob = "hutch:blob:" + put_function("secret", "sh run.sh", {{"run.sh", "echo hi\n"}});
  ASSERT_EQ(redis().command({"TYPE", blob}).text, "string") << "the code the attacker wants to read";
  std::string earlier = run_job({{"function", "hello"}})["id"];
  ASSERT_FALSE(earlier.empty());

  for (const std::string &key : {blob, std::string("hutch:jobs"), "hutch:exec:" + earlier, std::string("hutch:fn:secret"),
                                 std::string("hutch:fns"), std::string("hutch:uploads"), std::string("hutch:x")}) {
    Fields record = run_job({{"function", "file_copier"}, {"files", R"({"loot.bin":")" + key + R"("})"}});
    EXPECT_EQ(record["status"], "rejected") << key << ": " << describe_fields(record);
    EXPECT_THAT(record["error"], HasSubstr("files: the key of 'loot.bin' is '" + key.substr(0, 40))) << key;
    EXPECT_THAT(record["error"], HasSubstr("hutch:upload: or hutch:out:")) << key;
    EXPECT_EQ(record.count("started_at"), 0u) << "a rejected job never ran";
  }

  // What a job may name under hutch:: an upload (hutch submit --file) and an earlier execution's output.
  ASSERT_EQ(redis().command({"SET", "hutch:upload:abc", "uploaded"}).text, "OK");
  Fields made = run_job({{"function", "file_copier"}, {"input", R"({"extra":[{"name":"made.bin","bytes":3}]})"}});
  ASSERT_EQ(made["status"], "succeeded") << made["error"];
  Fields chained = run_job({{"function", "file_copier"},
                            {"files", R"({"a.txt":"hutch:upload:abc","b.bin":"hutch:out:)" + made["id"] + R"(/made.bin"})"}});
  EXPECT_EQ(chained["status"], "succeeded") << chained["error"];
  EXPECT_EQ(redis().command({"GET", "hutch:out:" + chained["id"] + "/a.txt"}).text, "uploaded");
  EXPECT_EQ(redis().command({"GET", "hutch:out:" + chained["id"] + "/b.bin"}).text, "xxx");
  expect_hutchd_still_serves();
}

// The other half: `out` could name hutch:out:<another execution's id> and overwrite that execution's output
// files, or put keys among hutch's own. Under hutch: only the job's own default is allowed.
TEST_F(ControlPlaneTest, OutputPrefixCannotOverwriteAnotherExecutionsFiles) {
  HUTCH_REQUIRE_ROOT();
  Fields victim = run_job({{"function", "file_copier"}, {"input", R"({"extra":[{"name":"result.bin","bytes":5}]})"}});
  ASSERT_EQ(victim["status"], "succeeded") << victim["error"];
  const std::string victim_file = "hutch:out:" + victim["id"] + "/result.bin";
  ASSERT_EQ(redis().command({"GET", victim_file}).text, "xxxxx");

  for (const std::string &out : {"hutch:out:" + victim["id"], std::string("hutch:exec:") + victim["id"],
                                 std::string("hutch:fn:x"), std::string("hutch:out:"), std::string("hutch:")}) {
    Fields record = run_job({{"function", "file_copier"}, {"out", out},
                             {"input", R"({"extra":[{"name":"result.bin","bytes":7}]})"}});
    EXPECT_EQ(record["status"], "rejected") << out << ": " << describe_fields(record);
    EXPECT_THAT(record["error"], HasSubstr("out: '" + out + "' is under hutch:")) << out;
  }
  EXPECT_EQ(redis().command({"GET", victim_file}).text, "xxxxx") << "the victim's output is untouched";

  // The job's own default, spelled out (an id chosen by the submitter), and a prefix of the user's own.
  std::string own_id = std::to_string(stream_id_milliseconds(victim["id"]).value_or(0) + 1000) + "-7";
  ASSERT_EQ(redis().command({"XADD", "hutch:jobs", own_id, "function", "file_copier", "out", "hutch:out:" + own_id,
                             "input", R"({"extra":[{"name":"mine.bin","bytes":2}]})"}).text, own_id);
  EXPECT_EQ(redis().wait_for_final(own_id, 30s)["status"], "succeeded");
  EXPECT_EQ(redis().command({"GET", "hutch:out:" + own_id + "/mine.bin"}).text, "xx");
  Fields elsewhere = run_job({{"function", "file_copier"}, {"out", "results:1"},
                              {"input", R"({"extra":[{"name":"r.bin","bytes":1}]})"}});
  EXPECT_EQ(elsewhere["status"], "succeeded") << elsewhere["error"];
  expect_hutchd_still_serves();
}

}  // namespace
}  // namespace hutch::test
