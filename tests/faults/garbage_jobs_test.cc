// Garbage in every job field: random bytes, huge values, a 1 MiB+ input, a 10 MB value, binary with NULs,
// invalid UTF-8, empty values, fields given twice, hundreds of fields. Every such job ends `rejected` with
// a short sentence naming the field; hutchd stays up and runs a normal job right after.
#include <map>
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "queue/job.h"
#include "tests/faults/fault_support.h"
#include "tests/support/hutch_test.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;

constexpr size_t kLongestSentence = 4096;  // a sentence quotes at most 64 bytes of a value, never all of it

struct GarbageJob {
  std::string what;
  JobFields fields;
  std::string names;  // what the error sentence must contain: the field (quoted as hutch quotes it)
};

std::string random_bytes(std::mt19937 &random, size_t count) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::string out(count, '\0');
  for (char &c : out) c = static_cast<char>(byte(random));
  return out;
}

std::string with_nul(const std::string &text) { return text + std::string(1, '\0') + "tail"; }

// A JSON string of exactly `bytes` bytes, valid except for its size.
std::string json_string_of_size(size_t bytes) { return "\"" + std::string(bytes - 2, 'a') + "\""; }

const std::vector<std::string> kFields = {"function", "input", "timeout", "memory", "cpu", "files", "out"};
// A value each field accepts, so that giving it twice is the job's only fault.
const std::map<std::string, std::string> kValidValues = {{"function", "hello"}, {"input", "{}"},   {"timeout", "1"},
                                                         {"memory", "256M"},    {"cpu", "1"},     {"files", "{}"},
                                                         {"out", "results:1"}};

// The job is `field`=`value`, with function hello beside it unless the field is the function.
JobFields job_with(const std::string &field, const std::string &value) {
  if (field == "function") return {{"function", value}};
  return {{"function", "hello"}, {field, value}};
}

std::vector<GarbageJob> garbage_jobs() {
  std::mt19937 random(20261201);  // fixed: a failure names the same bytes on every run
  std::vector<GarbageJob> jobs;
  for (const std::string &field : kFields) {
    jobs.push_back({field + " random bytes", job_with(field, random_bytes(random, 200)), field});
    jobs.push_back({field + " empty", job_with(field, ""), field});
    jobs.push_back({field + " 10 MB", job_with(field, std::string(10 << 20, field == "input" ? ' ' : '9')), field});
    jobs.push_back({field + " given twice", {{"function", "hello"}, {field, kValidValues.at(field)}, {field, kValidValues.at(field)}},
                    "'" + field + "' is given twice"});
  }
  // Binary with NULs: a value that would be valid if read up to its NUL must not be taken as that.
  jobs.push_back({"function hello+NUL", {{"function", with_nul("hello")}}, "function"});
  jobs.push_back({"input JSON+NUL", job_with("input", with_nul(R"({"name":"Ada"})")), "input: "});
  jobs.push_back({"timeout 5+NUL", job_with("timeout", with_nul("5")), "timeout"});
  jobs.push_back({"memory 256M+NUL", job_with("memory", with_nul("256M")), "memory"});
  jobs.push_back({"cpu 1+NUL", job_with("cpu", with_nul("1")), "cpu"});
  jobs.push_back({"out prefix+NUL", job_with("out", with_nul("results:1")), "out"});
  jobs.push_back({"files JSON+NUL", job_with("files", with_nul(R"({"a.txt":"k"})")), "not valid JSON"});
  jobs.push_back({"field name input+NUL", {{"function", "hello"}, {with_nul("input"), "{}"}}, quote_value(with_nul("input"))});
  // Invalid UTF-8.
  jobs.push_back({"input lone 0xff", job_with("input", "\"\xff\xfe\""), "input"});
  jobs.push_back({"input truncated sequence", job_with("input", "{\"name\":\"\xc3\x28\"}"), "input"});
  jobs.push_back({"input overlong slash", job_with("input", "\"\xc0\xaf\""), "input"});
  jobs.push_back({"input surrogate", job_with("input", "\"\xed\xa0\x80\""), "input"});
  jobs.push_back({"function invalid UTF-8", {{"function", "hel\xfflo"}}, "function"});
  jobs.push_back({"files name invalid UTF-8", job_with("files", "{\"\xff.jpg\":\"img:1\"}"), "files"});
  // Huge or out-of-range values.
  jobs.push_back({"input 1 MiB + 1", job_with("input", json_string_of_size((1 << 20) + 1)), "input"});
  jobs.push_back({"timeout 100000 digits", job_with("timeout", std::string(100000, '9')), "timeout"});
  jobs.push_back({"timeout 1e308", job_with("timeout", "1e308"), "timeout"});
  jobs.push_back({"memory past 2^64", job_with("memory", "18446744073709551615G"), "memory"});
  jobs.push_back({"cpu huge", job_with("cpu", "1" + std::string(1000, '0')), "cpu"});
  jobs.push_back({"out 100 KB", job_with("out", std::string(100000, 'k')), "out"});
  std::string many_files = "{";
  for (int i = 0; i < 200; ++i) many_files += (i ? "," : "") + std::string("\"f") + std::to_string(i) + "\":\"k\"";
  jobs.push_back({"files 200 names", job_with("files", many_files + "}"), "files"});
  jobs.push_back({"files 2000-byte key", job_with("files", "{\"a\":\"" + std::string(2000, 'k') + "\"}"), "files"});
  // Field names.
  std::string random_name = random_bytes(random, 40);
  jobs.push_back({"field name random bytes", {{"function", "hello"}, {random_name, "x"}}, quote_value(random_name)});
  jobs.push_back({"field name empty", {{"function", "hello"}, {"", "x"}}, "unknown field ''"});
  jobs.push_back({"field name 10 MB", {{"function", "hello"}, {std::string(10 << 20, 'n'), "x"}},
                  "a field name of 10485760 bytes is not a job field"});
  JobFields many_unknown = {{"function", "hello"}};
  for (int i = 0; i < 300; ++i) many_unknown.push_back({"f" + std::to_string(i), "x"});
  jobs.push_back({"300 unknown fields", many_unknown, "the entry has 301 fields; a job has at most 7"});
  JobFields input_many_times = {{"function", "hello"}};
  for (int i = 0; i < 500; ++i) input_many_times.push_back({"input", "{}"});
  jobs.push_back({"input 500 times", input_many_times, "the entry has 501 fields; a job has at most 7"});
  // Nothing but garbage: whichever field is named, the job is rejected.
  JobFields all_garbage;
  for (int i = 0; i < 20; ++i) all_garbage.push_back({random_bytes(random, 16), random_bytes(random, 64)});
  jobs.push_back({"20 random fields", all_garbage, "function: missing"});
  return jobs;
}

class GarbageJobsTest : public HutchTest {};

TEST_F(GarbageJobsTest, EveryGarbageJobIsRejectedNamingItsFieldAndHutchdGoesOn) {
  std::vector<GarbageJob> jobs = garbage_jobs();
  std::vector<std::string> ids;
  for (const GarbageJob &job : jobs) ids.push_back(redis().xadd_job(job.fields));
  ASSERT_EQ(ids.size(), jobs.size());

  size_t rejected = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    SCOPED_TRACE(jobs[i].what);
    Fields record = redis().wait_for_final(ids[i], 30s);
    EXPECT_EQ(record["status"], "rejected");
    EXPECT_EQ(record["id"], ids[i]);
    EXPECT_THAT(record["error"], HasSubstr(jobs[i].names));
    EXPECT_LE(record["error"].size(), kLongestSentence) << "a sentence, not the value: " << record["error"].substr(0, 300);
    EXPECT_EQ(record.count("started_at"), 0u) << "a rejected job never starts";
    if (record["status"] == "rejected") ++rejected;
    ASSERT_TRUE(hutchd().running()) << "hutchd died on this job";
  }
  std::cout << "[ garbage ] " << rejected << " of " << jobs.size() << " garbage jobs rejected" << std::endl;

  Fields hello = run_job({{"function", "hello"}}, 30s);
  EXPECT_EQ(hello["status"], "succeeded") << "a normal job right after the garbage: " << describe_fields(hello);
  EXPECT_EQ(hello["output"], "\"Hello, World\"");
}

}  // namespace
}  // namespace hutch::test
