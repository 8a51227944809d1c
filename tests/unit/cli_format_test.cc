// The CLI's pure parts: command-line parsing, stream ids, and the record and table formats users script
// against. No Redis.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "cli/acl_file.h"
#include "cli/execution_id.h"
#include "cli/options.h"
#include "cli/record_format.h"
#include "cli/status_words.h"

namespace hutch::cli {
namespace {

Result<Invocation> parse(std::vector<std::string> args) { return parse_command_line(args); }

TEST(CliOptions, SubmitTakesEveryOptionInAnyOrderAndPassesValuesThrough) {
  auto invocation = parse({"--redis", "redis://h:1", "submit", "--timeout=301", "hello", "--input", "{not json",
                           "--memory", "12Q", "--cpu", "0", "--wait"});
  ASSERT_TRUE(invocation) << invocation.error().message;
  EXPECT_EQ(invocation->redis_url, "redis://h:1");
  auto &submit = std::get<SubmitOptions>(invocation->command);
  EXPECT_EQ(submit.function, "hello");
  EXPECT_EQ(submit.input, "{not json");
  EXPECT_EQ(submit.timeout, "301");
  EXPECT_EQ(submit.memory, "12Q");
  EXPECT_EQ(submit.cpu, "0");
  EXPECT_TRUE(submit.wait);
}

TEST(CliOptions, SubmitFilesAndOut) {
  auto invocation = parse({"submit", "rgb2gray", "--file", "in.jpg=/tmp/photo.jpg", "--file=/data/b.png", "--out", "res:1"});
  ASSERT_TRUE(invocation) << invocation.error().message;
  auto &submit = std::get<SubmitOptions>(invocation->command);
  ASSERT_EQ(submit.files.size(), 2u);
  EXPECT_EQ(submit.files[0], (std::pair<std::string, std::string>{"in.jpg", "/tmp/photo.jpg"}));
  EXPECT_EQ(submit.files[1], (std::pair<std::string, std::string>{"b.png", "/data/b.png"}));
  EXPECT_EQ(submit.out, "res:1");
  EXPECT_EQ(parse({"submit", "f", "--file", "../x=/a"}).error().message,
            "submit: --file '../x=/a': '../x' cannot be a file name in the job; use 1-255 letters, digits, '.', '_', "
            "'-' or '+', not starting with '.' or '-', e.g. photo.jpg (give one with --file NAME=PATH)");
  EXPECT_EQ(parse({"submit", "f", "--file", "a=/x", "--file", "a=/y"}).error().message,
            "submit: --file: two files are named 'a'; give each its own NAME=");
  EXPECT_EQ(parse({"submit", "f", "--file", "a="}).error().message,
            "submit: --file 'a=' names no file; use --file NAME=PATH");
}

TEST(CliOptions, PutAndGet) {
  auto put = parse({"put", "img:1", "-"});
  ASSERT_TRUE(put) << put.error().message;
  EXPECT_EQ(std::get<PutOptions>(put->command).key, "img:1");
  EXPECT_EQ(std::get<PutOptions>(put->command).path, "-");
  auto get = parse({"get", "img:1"});
  ASSERT_TRUE(get) << get.error().message;
  EXPECT_FALSE(std::get<GetOptions>(get->command).path);
  EXPECT_EQ(std::get<GetOptions>(parse({"get", "k", "out.png"})->command).path, "out.png");
  EXPECT_EQ(parse({"put", "k"}).error().message, "put: give a key and a file, e.g. hutch put img:1 photo.jpg");
  EXPECT_EQ(parse({"get"}).error().message, "get: give a key, and a file to write (default: stdout)");
  EXPECT_EQ(parse({"get", "k", "f", "g"}).error().message, "get: unexpected argument 'g'");
}

TEST(CliOptions, UsageErrorsSaySentences) {
  EXPECT_EQ(parse({}).error().message, "name a command");
  EXPECT_EQ(parse({"frobnicate"}).error().message, "unknown command 'frobnicate'");
  EXPECT_EQ(parse({"submit"}).error().message, "submit: name the function to run");
  EXPECT_EQ(parse({"submit", "f", "--timeout"}).error().message, "submit: --timeout needs a value");
  EXPECT_EQ(parse({"status"}).error().message, "status: name the execution id");
  EXPECT_EQ(parse({"status", "1-0", "2-0"}).error().message, "status: unexpected argument '2-0'");
  EXPECT_EQ(parse({"ls", "--bogus"}).error().message, "ls: unknown option '--bogus'");
  EXPECT_EQ(parse({"logs"}).error().message, "logs: name the execution id, or use -f to follow every execution");
}

TEST(CliOptions, LsValidatesStatusAndLimit) {
  auto ls = parse({"ls", "--status", "failed", "--limit", "5", "--function", "hello"});
  ASSERT_TRUE(ls);
  EXPECT_EQ(std::get<LsOptions>(ls->command).limit, 5u);
  EXPECT_EQ(std::get<LsOptions>(ls->command).status, "failed");
  EXPECT_EQ(std::get<LsOptions>(parse({"ls"})->command).limit, 20u);
  EXPECT_EQ(parse({"ls", "--status", "done"}).error().message,
            "ls: --status 'done' is not a status; use one of queued, running, succeeded, failed, timeout, oom, "
            "killed, rejected, error, abandoned");
  EXPECT_FALSE(parse({"ls", "--limit", "0"}));
  EXPECT_FALSE(parse({"ls", "--limit", "-3"}));
  EXPECT_FALSE(parse({"ls", "--limit", "4x"}));
}

TEST(CliOptions, LogsWithAndWithoutId) {
  auto one = std::get<LogsOptions>(parse({"logs", "-f", "1-0"})->command);
  EXPECT_EQ(one.id, "1-0");
  EXPECT_TRUE(one.follow);
  auto all = std::get<LogsOptions>(parse({"logs", "-f"})->command);
  EXPECT_FALSE(all.id);
}

TEST(CliOptions, HelpAnywhere) {
  EXPECT_TRUE(std::holds_alternative<HelpRequest>(parse({"--help"})->command));
  EXPECT_TRUE(std::holds_alternative<HelpRequest>(parse({"help"})->command));
  EXPECT_TRUE(std::holds_alternative<HelpRequest>(parse({"submit", "-h"})->command));
}

TEST(CliStatusWords, FinalWords) {
  EXPECT_TRUE(is_final_status_word("succeeded"));
  EXPECT_TRUE(is_final_status_word("rejected"));
  EXPECT_FALSE(is_final_status_word("running"));
  EXPECT_FALSE(is_final_status_word("queued"));
  EXPECT_FALSE(is_final_status_word("bogus"));
}

TEST(CliStreamId, OnlyFullIds) {
  EXPECT_EQ(parse_stream_id("1795304703013-7"), (StreamId{1795304703013, 7}));
  EXPECT_FALSE(parse_stream_id("abc"));
  EXPECT_FALSE(parse_stream_id("5"));
  EXPECT_FALSE(parse_stream_id("5-"));
  EXPECT_FALSE(parse_stream_id("-5"));
  EXPECT_FALSE(parse_stream_id("+5-1"));
  EXPECT_FALSE(parse_stream_id("5-1 "));
  EXPECT_LT(parse_stream_id("9-9"), parse_stream_id("10-0"));
  EXPECT_EQ(iso_time_from_milliseconds(1795304703013), "2026-11-21T23:45:03.013Z");
}

const FieldList kRecord{{"memory_limit", "268435456"}, {"worker", "host:1"},  {"status", "succeeded"},
                        {"zeta", "z"},                 {"output", "{\"a\": [1, 2]}"}, {"id", "1-0"},
                        {"duration", "0.120"},         {"input", "not json"},   {"function", "hello"},
                        {"alpha", "a"},                {"exit_code", "0"},      {"logs_truncated", "0"}};

TEST(CliRecordFormat, TextOrderIsStable) {
  EXPECT_EQ(format_record_text(kRecord),
            "id: 1-0\nfunction: hello\nstatus: succeeded\noutput: {\"a\": [1, 2]}\nduration: 0.120\n"
            "exit_code: 0\ninput: not json\nmemory_limit: 268435456\nlogs_truncated: 0\nworker: host:1\n"
            "alpha: a\nzeta: z\n");
}

TEST(CliRecordFormat, MultiLineValuesAreIndented) {
  EXPECT_EQ(format_record_text({{"output", "{\n\"a\": 1\n}\n"}}), "output: {\n  \"a\": 1\n  }\n\n");
}

TEST(CliRecordFormat, JsonHasNumbersAndEmbeddedJson) {
  auto json = nlohmann::json::parse(format_record_json(kRecord));
  EXPECT_EQ(json["memory_limit"], 268435456);
  EXPECT_EQ(json["duration"], 0.12);
  EXPECT_EQ(json["exit_code"], 0);
  EXPECT_EQ(json["logs_truncated"], 0);
  EXPECT_EQ(json["output"], nlohmann::json::parse(R"({"a": [1, 2]})"));
  EXPECT_EQ(json["input"], "not json");
  EXPECT_EQ(json["status"], "succeeded");
  EXPECT_EQ(format_record_json({{"id", "1-0"}, {"status", "failed"}}), R"({"id":"1-0","status":"failed"})");
}

TEST(CliRecordFormat, JsonSurvivesBadValues) {
  auto text = format_record_json({{"error", std::string("bad \xff byte")}, {"timeout", "five"}});
  auto json = nlohmann::json::parse(text);
  EXPECT_EQ(json["timeout"], "five");
  EXPECT_TRUE(json["error"].is_string());
}

TEST(CliRecordFormat, QueuedRecordFromJobEntry) {
  StreamEntry job{"1795304703013-0", {{"function", "hello"}, {"input", "{\"name\":\"Ada\"}"}, {"timeout", "3"}}};
  EXPECT_EQ(format_record_json(queued_record(job)),
            R"({"id":"1795304703013-0","function":"hello","status":"queued","input":{"name":"Ada"},)"
            R"("enqueued_at":"2026-11-21T23:45:03.013Z"})");
}

TEST(CliRecordFormat, TableAlignsAndDashesEmptyCells) {
  EXPECT_EQ(format_execution_table({{"10-0", "hello", "succeeded", "0.100", "2026-11-21T23:45:03.013Z"},
                                    {"9-0", "sleep", "queued", "", ""}}),
            "ID    FUNCTION  STATUS     DURATION  ENQUEUED_AT\n"
            "10-0  hello     succeeded  0.100     2026-11-21T23:45:03.013Z\n"
            "9-0   sleep     queued     -         -\n");
}

// --raw: anywhere on the line, for the verbs that print stored text; a mistake on the others.
TEST(CliOptions, RawGoesToTheVerbsThatPrintStoredText) {
  EXPECT_TRUE(std::get<LogsOptions>(parse({"logs", "1-0", "--raw"})->command).raw);
  EXPECT_TRUE(std::get<StatusOptions>(parse({"--raw", "status", "1-0"})->command).raw);
  EXPECT_FALSE(std::get<StatusOptions>(parse({"status", "1-0"})->command).raw);
  EXPECT_TRUE(std::get<LsOptions>(parse({"ls", "--raw"})->command).raw);
  EXPECT_TRUE(std::get<FunctionOptions>(parse({"function", "show", "f", "--raw"})->command).raw);
  EXPECT_TRUE(std::get<PackageOptions>(parse({"package", "list", "--raw"})->command).raw);
  EXPECT_TRUE(std::get<SubmitOptions>(parse({"submit", "hello", "--wait", "--raw"})->command).raw);
  EXPECT_EQ(parse({"put", "k", "f", "--raw"}).error().message,
            "put: --raw applies to the verbs that print what jobs and users stored: submit --wait, status, ls, logs, "
            "function, package");
}

TEST(CliOptions, Acl) {
  auto acl = parse({"acl", "--password-dir", "/etc/hutch/redis", "--password-file", "viewer=/v", "--user-prefix",
                    "prod-", "--data-prefix", "data:", "--data-prefix=img:"});
  ASSERT_TRUE(acl) << acl.error().message;
  auto &options = std::get<AclOptions>(acl->command);
  EXPECT_EQ(options.password_dir, "/etc/hutch/redis");
  EXPECT_EQ(options.password_files, (std::vector<std::pair<std::string, std::string>>{{"viewer", "/v"}}));
  EXPECT_EQ(options.user_prefix, "prod-");
  EXPECT_EQ(options.data_prefixes, (std::vector<std::string>{"data:", "img:"}));
  EXPECT_EQ(std::get<AclOptions>(parse({"acl"})->command).user_prefix, "hutch-");
  EXPECT_EQ(parse({"acl", "--password-file", "viewer"}).error().message,
            "acl: --password-file 'viewer': use ROLE=FILE, e.g. submitter=/etc/hutch/submitter.pass");
}

// What a job wrote reaches the terminal as escapes; layout survives (tabs, continuation lines).
TEST(CliRecordFormat, TextShowsControlCharactersAsEscapes) {
  FieldList record{{"function", "x\x1b[31m"}, {"error", "bad \x1b]0;owned\x07 name\nsecond\tline\r"}};
  EXPECT_EQ(format_record_text(record),
            "function: x\\x1b[31m\nerror: bad \\x1b]0;owned\\x07 name\n  second\tline\\r\n");
  EXPECT_EQ(format_record_text(record, Output::kRaw),
            "function: x\x1b[31m\nerror: bad \x1b]0;owned\x07 name\n  second\tline\r\n");
  EXPECT_EQ(format_record_text({{"we\nird", "v"}}), "we\\nird: v\n") << "field names too";
}

TEST(CliRecordFormat, JsonIsAsciiUnlessRaw) {
  FieldList record{{"error", "\x1b \x7f \xc2\x9b caf\xc3\xa9 \xe2\x80\xae"}};
  EXPECT_EQ(format_record_json(record), R"({"error":"\u001b \u007f \u009b caf\u00e9 \u202e"})");
  EXPECT_EQ(format_record_json(record, Output::kRaw), "{\"error\":\"\\u001b \x7f \xc2\x9b caf\xc3\xa9 \xe2\x80\xae\"}");
}

// 400,000 nested arrays are valid JSON of 800,000 bytes; printing them as a tree recursed once per level.
TEST(CliRecordFormat, DeeplyNestedOutputIsKeptAsText) {
  std::string deep = std::string(400000, '[') + std::string(400000, ']');
  std::string text = format_record_json({{"output", deep}, {"input", deep}, {"duration", deep}});
  auto json = nlohmann::json::parse(text, nullptr, false);
  ASSERT_TRUE(json.is_object());
  EXPECT_EQ(json["output"], deep);
  EXPECT_EQ(json["input"], deep);
  EXPECT_EQ(json["duration"], deep);
  std::string allowed = std::string(kMaxEmbeddedDepth, '[') + std::string(kMaxEmbeddedDepth, ']');
  EXPECT_TRUE(nlohmann::json::parse(format_record_json({{"output", allowed}}))["output"].is_array())
      << "up to the limit it is embedded as JSON";
  std::string over = "[" + allowed + "]";
  EXPECT_TRUE(nlohmann::json::parse(format_record_json({{"output", over}}))["output"].is_string());
  EXPECT_EQ(format_record_text({{"output", deep}}).size(), deep.size() + 9) << "the text form never parses";
}

TEST(CliRecordFormat, TableCellsStayOnOneLine) {
  EXPECT_EQ(format_execution_table({{"1-0", "a\tb\nc\x1b[2J", "rejected", "", ""}}),
            "ID   FUNCTION        STATUS    DURATION  ENQUEUED_AT\n"
            "1-0  a\\tb\\nc\\x1b[2J  rejected  -         -\n");
}

const AclRole &role(const std::string &name) {
  for (const AclRole &candidate : acl_roles())
    if (candidate.name == name) return candidate;
  throw std::runtime_error("no role " + name);
}

bool allows(const AclRole &role, const std::string &command) {
  return std::find(role.commands.begin(), role.commands.end(), command) != role.commands.end();
}

std::string access_to(const AclRole &role, const std::string &pattern) {
  for (const KeyRule &rule : role.keys) {
    if (rule.pattern != pattern) continue;
    return rule.access == KeyAccess::kRead ? "R" : rule.access == KeyAccess::kWrite ? "W" : "RW";
  }
  return "";
}

// The roles' shape; tests/security/acl_test.cc checks them against a real Redis.
TEST(CliAcl, RolesAreLeastPrivilege) {
  const AclRole &supervisor = role("supervisor"), &submitter = role("submitter"), &viewer = role("viewer"),
                &operator_role = role("operator");
  EXPECT_EQ(access_to(supervisor, "hutch:fn:*"), "R") << "hutchd reads definitions, never writes them";
  EXPECT_EQ(access_to(supervisor, "hutch:blob:*"), "R");
  EXPECT_EQ(access_to(supervisor, "hutch:upload:*"), "R");
  EXPECT_EQ(access_to(supervisor, "hutch:fn-executions"), "RW");
  EXPECT_EQ(access_to(submitter, "hutch:fn:*"), "R");
  EXPECT_EQ(access_to(submitter, "hutch:exec:*"), "R");
  EXPECT_EQ(access_to(submitter, "hutch:blob:*"), "") << "a function's code is not the submitters' to read";
  EXPECT_EQ(access_to(submitter, "hutch:upload:*"), "RW");
  EXPECT_EQ(access_to(operator_role, "hutch:fn:*"), "RW");
  EXPECT_EQ(access_to(operator_role, "hutch:jobs"), "R");
  for (const KeyRule &rule : viewer.keys) EXPECT_EQ(rule.access, KeyAccess::kRead) << rule.pattern;
  EXPECT_FALSE(allows(viewer, "set"));
  EXPECT_FALSE(allows(submitter, "del"));
  EXPECT_TRUE(allows(supervisor, "eval_ro"));
  // Lua (even read-only) can busy Redis for everyone: only hutchd's user runs scripts.
  for (const AclRole *reader : {&submitter, &viewer, &operator_role}) {
    EXPECT_FALSE(allows(*reader, "eval")) << reader->name;
    EXPECT_FALSE(allows(*reader, "eval_ro")) << reader->name;
  }
  for (const AclRole &each : acl_roles()) {
    EXPECT_TRUE(std::is_sorted(each.commands.begin(), each.commands.end())) << each.name;
    for (const char *never : {"flushall", "config", "keys", "acl", "debug", "shutdown", "@all", "script", "del"}) {
      if (each.name == "operator" && std::string(never) == "del") continue;
      EXPECT_FALSE(allows(each, never)) << each.name << " may " << never;
    }
  }
}

TEST(CliAcl, FileHasTheDefaultUserOffAndOneLinePerRole) {
  std::vector<AclUser> users;
  for (const AclRole &each : acl_roles()) users.push_back({&each, "hutch-" + each.name, std::string(64, 'a')});
  std::string file = acl_file_text(users, {"data:"});
  EXPECT_TRUE(file.starts_with("user default reset off\n")) << file;
  EXPECT_EQ(std::count(file.begin(), file.end(), '\n'), 5);
  EXPECT_NE(file.find("user hutch-viewer reset on #" + std::string(64, 'a') + " %R~hutch:jobs %R~hutch:exec:*"),
            std::string::npos) << file;
  EXPECT_NE(file.find(" %RW~data:* resetchannels &hutch:events -@all +client|id "), std::string::npos) << file;
  EXPECT_EQ(file.find("+@all"), std::string::npos);
}

TEST(CliAcl, DataPrefixesStayApartFromHutchsKeys) {
  EXPECT_TRUE(check_data_prefix("data:"));
  EXPECT_TRUE(check_data_prefix("img/"));
  for (const char *bad : {"", "hutch:", "hutch:upload:", "h", "hutch", "a b", "img*", "x?", "\x1b"}) {
    EXPECT_FALSE(check_data_prefix(bad)) << bad;
  }
  EXPECT_EQ(check_data_prefix("hu").error().message,
            "acl: --data-prefix 'hu' would cover keys under hutch:, which are hutch's own and have their roles; "
            "choose a prefix apart from it, e.g. data:");
  EXPECT_TRUE(check_user_prefix("hutch-"));
  EXPECT_TRUE(check_user_prefix(""));
  EXPECT_FALSE(check_user_prefix("a b"));
}

}  // namespace
}  // namespace hutch::cli
