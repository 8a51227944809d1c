// The `files` and `out` job fields, and the Redis side of files in and out (queue/job_files.h): the fetch
// script's answers turned into inputs or a refusal naming the key, and the output SETs inside the MULTI.
#include "queue/job_files.h"

#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>

#include "tests/unit/fake_reply.h"

namespace hutch {
namespace {

FunctionCatalog catalog() {
  return {.exists = [](const std::string &name) { return name == "f"; }, .names = [] { return std::vector<std::string>{"f"}; }};
}

ParsedJob parse(StreamFields fields) { return parse_job("1700000000123-0", fields, catalog()); }

TEST(JobFilesTest, FilesAreParsedSortedByNameAndOutDefaultsToTheExecution) {
  ParsedJob parsed = parse({{"function", "f"}, {"files", R"({"z.png":"img:z","a.jpg":"img:a"})"}});
  ASSERT_FALSE(parsed.rejection) << *parsed.rejection;
  ASSERT_EQ(parsed.job.files.size(), 2u);
  EXPECT_EQ(parsed.job.files[0].name, "a.jpg");
  EXPECT_EQ(parsed.job.files[0].key, "img:a");
  EXPECT_EQ(parsed.job.files[1].name, "z.png");
  EXPECT_EQ(parsed.job.output_prefix, "hutch:out:1700000000123-0");
  EXPECT_EQ(parse({{"function", "f"}, {"out", "res:1"}}).job.output_prefix, "res:1");
}

TEST(JobFilesTest, BadFileNamesAreRejectedWithTheRule) {
  for (const char *name : {"..", ".x", "-rf", "a/b", "a b", "", "caf\xc3\xa9"}) {
    std::string files = nlohmann::json{{name, "k"}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    ParsedJob parsed = parse({{"function", "f"}, {"files", files}});
    ASSERT_TRUE(parsed.rejection) << name;
    EXPECT_NE(parsed.rejection->find("is not allowed; use 1-255 letters, digits"), std::string::npos) << *parsed.rejection;
  }
  EXPECT_FALSE(parse({{"function", "f"}, {"files", R"({"Photo_1.v2+x-y.JPG":"k"})"}}).rejection);
  nlohmann::json many = nlohmann::json::object();
  for (int i = 0; i <= 100; ++i) many[std::to_string(i).insert(0, 1, 'f')] = "k";
  EXPECT_EQ(parse({{"function", "f"}, {"files", many.dump()}}).rejection.value_or(""),
            "files: 101 files is too many; at most 100");
}

Job two_file_job() {
  ParsedJob parsed = parse({{"function", "f"}, {"files", R"({"a.bin":"k:a","b.bin":"k:b"})"}});
  return parsed.job;
}

TEST(JobFilesTest, TheFetchCommandPassesKeysAndCaps) {
  Command command = fetch_files_command(two_file_job(), {10, 20});
  ASSERT_EQ(command.size(), 7u);
  // Read-only: under an ACL the supervisor may read input keys without any right to write them.
  EXPECT_EQ(command[0], "EVAL_RO");
  EXPECT_EQ(command[2], "2");
  EXPECT_EQ(command[3], "k:a");
  EXPECT_EQ(command[4], "k:b");
  EXPECT_EQ(command[5], "10");
  EXPECT_EQ(command[6], "20");
}

TEST(JobFilesTest, AnOkAnswerGivesTheContentsInOrder) {
  FakeReply r;
  std::string binary("\0\n\xff", 3);
  auto fetched = parse_fetch_reply(r.array({r.string("ok"), r.string(binary), r.string("")}), two_file_job(), {});
  ASSERT_TRUE(std::holds_alternative<FetchedFiles>(fetched));
  EXPECT_EQ(std::get<FetchedFiles>(fetched).contents, (std::vector<std::string>{binary, ""}));
}

TEST(JobFilesTest, RefusalsNameTheKeyTheFileAndTheRule) {
  FakeReply r;
  Job job = two_file_job();
  auto sentence = [&](redisReply *reply) {
    auto fetched = parse_fetch_reply(reply, job, {1 << 20, 3 << 20});
    EXPECT_TRUE(std::holds_alternative<FetchRefusal>(fetched));
    return std::holds_alternative<FetchRefusal>(fetched) ? std::get<FetchRefusal>(fetched) : FetchRefusal{};
  };
  FetchRefusal missing = sentence(r.array({r.string("missing"), r.integer(2)}));
  EXPECT_EQ(missing.sentence, "files: key 'k:b' (file 'b.bin') does not exist; store the file first, e.g. hutch put k:b b.bin");
  EXPECT_TRUE(missing.job_at_fault);
  EXPECT_EQ(sentence(r.array({r.string("type"), r.integer(1), r.string("list")})).sentence,
            "files: key 'k:a' (file 'a.bin') holds a list, not a string; a file must be a plain string value (SET, or hutch put)");
  EXPECT_EQ(sentence(r.array({r.string("file"), r.integer(1), r.integer(2000000)})).sentence,
            "files: key 'k:a' (file 'a.bin') holds 2000000 bytes; at most 1 MiB per file");
  EXPECT_EQ(sentence(r.array({r.string("job"), r.integer(4000000)})).sentence,
            "files: the input files hold 4000000 bytes together; at most 3 MiB per job");
  FetchRefusal redis_error = sentence(r.string("NOSCRIPT oops", REDIS_REPLY_ERROR));
  EXPECT_FALSE(redis_error.job_at_fault) << "Redis failing is not the job's fault";
  EXPECT_FALSE(sentence(nullptr).job_at_fault);
  // An ACL that keeps hutchd's user from the job's keys: the job named keys this deployment does not share.
  FetchRefusal denied = sentence(r.string("NOPERM this user has no permissions to access one of the keys used as "
                                          "arguments", REDIS_REPLY_ERROR));
  EXPECT_TRUE(denied.job_at_fault);
  EXPECT_EQ(denied.sentence,
            "files: Redis does not let hutchd read these keys (NOPERM this user has no permissions to access one of "
            "the keys used as arguments); under an ACL, input files must be uploads (hutch:upload:...), earlier "
            "outputs (hutch:out:...) or keys under a data prefix of the ACL (hutch acl --data-prefix)");
  EXPECT_FALSE(sentence(r.array({r.string("ok"), r.string("only one")})).job_at_fault);
}

TEST(JobFilesTest, OutputsAreStoredWithTheFinalRecordAndListed) {
  Job job = two_file_job();
  std::vector<OutputFile> files{{"a.png", std::string(3, '\0')}, {"b.txt", "hi"}};
  FinalFacts facts;
  facts.status = ExecutionStatus::kSucceeded;
  facts.files_out = files_out_json(job, files);
  facts.extra_commands = store_output_commands(job, std::move(files), 60000);
  EXPECT_EQ(facts.files_out,
            R"([{"bytes":3,"key":"hutch:out:1700000000123-0/a.png","name":"a.png"},)"
            R"({"bytes":2,"key":"hutch:out:1700000000123-0/b.txt","name":"b.txt"}])");
  auto commands = final_commands(job, facts);
  ASSERT_GE(commands.size(), 4u);
  EXPECT_EQ(commands[0], (Command{"SET", "hutch:out:1700000000123-0/a.png", std::string(3, '\0'), "PX", "60000"}));
  EXPECT_EQ(commands[1], (Command{"SET", "hutch:out:1700000000123-0/b.txt", "hi", "PX", "60000"}));
  EXPECT_EQ(commands[2][0], "HSET");
  EXPECT_EQ(commands.back()[0], "XACK");
}

}  // namespace
}  // namespace hutch
