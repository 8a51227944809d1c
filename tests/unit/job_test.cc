// Job parsing and every rejection rule of docs/protocol.md.
#include "queue/job.h"

#include <gtest/gtest.h>

namespace hutch {
namespace {

FunctionCatalog catalog() {
  return {
      .exists = [](const std::string &name) { return name == "hello" || name == "sleep"; },
      .names = [] { return std::vector<std::string>{"hello", "sleep"}; },
  };
}

ParsedJob parse(StreamFields fields) { return parse_job("1700000000123-0", std::move(fields), catalog()); }

std::string rejection(StreamFields fields) {
  ParsedJob parsed = parse(std::move(fields));
  return parsed.rejection.value_or("<accepted>");
}

TEST(JobTest, DefaultsApplyWhenOnlyFunctionIsGiven) {
  ParsedJob parsed = parse({{"function", "hello"}});
  ASSERT_FALSE(parsed.rejection) << *parsed.rejection;
  EXPECT_EQ(parsed.job.id, "1700000000123-0");
  EXPECT_EQ(parsed.job.enqueued_at_ms, 1700000000123);
  EXPECT_EQ(parsed.job.function, "hello");
  EXPECT_EQ(parsed.job.input, "null");
  EXPECT_DOUBLE_EQ(parsed.job.timeout_seconds, 5.0);
  EXPECT_EQ(parsed.job.memory_bytes, 256ULL << 20);
  EXPECT_DOUBLE_EQ(parsed.job.cpu_cores, 1.0);
}

TEST(JobTest, EveryFieldIsParsed) {
  ParsedJob parsed = parse({{"function", "sleep"}, {"input", "{\"seconds\": 1}"}, {"timeout", "15"},
                            {"memory", "64M"}, {"cpu", "0.5"}});
  ASSERT_FALSE(parsed.rejection) << *parsed.rejection;
  EXPECT_EQ(parsed.job.input, "{\"seconds\": 1}");
  EXPECT_DOUBLE_EQ(parsed.job.timeout_seconds, 15.0);
  EXPECT_EQ(parsed.job.memory_bytes, 64ULL << 20);
  EXPECT_DOUBLE_EQ(parsed.job.cpu_cores, 0.5);
}

TEST(JobTest, TimeoutOutsideItsRuleIsRejectedNamingFieldValueAndRule) {
  for (const std::string bad : {"0", "-1", "301", "300.001"}) {
    std::string error = rejection({{"function", "hello"}, {"timeout", bad}});
    EXPECT_EQ(error, "timeout: '" + bad + "' is out of range; use seconds > 0 and <= 300, e.g. 5 or 2.5");
  }
  EXPECT_EQ(rejection({{"function", "hello"}, {"timeout", "abc"}}),
            "timeout: 'abc' is not a number; use seconds > 0 and <= 300, e.g. 5 or 2.5");
  EXPECT_EQ(rejection({{"function", "hello"}, {"timeout", "300"}}), "<accepted>");
  EXPECT_EQ(rejection({{"function", "hello"}, {"timeout", "0.5"}}), "<accepted>");
}

TEST(JobTest, NumbersMustBePlainDecimals) {
  for (const std::string bad : {"1e3", "inf", "nan", " 5", "5 ", "0x10", "", "."}) {
    EXPECT_NE(rejection({{"function", "hello"}, {"timeout", bad}}), "<accepted>") << bad;
  }
  EXPECT_EQ(rejection({{"function", "hello"}, {"timeout", "5."}}), "<accepted>");
}

TEST(JobTest, MemoryIsASizeWithinItsRange) {
  EXPECT_EQ(rejection({{"function", "hello"}, {"memory", "12Q"}}),
            "memory: '12Q' is not a size; use bytes with an optional K, M or G suffix, from 4M to 64G, e.g. 256M");
  EXPECT_EQ(rejection({{"function", "hello"}, {"memory", "1M"}}),
            "memory: '1M' is out of range; use bytes with an optional K, M or G suffix, from 4M to 64G, e.g. 256M");
  EXPECT_EQ(rejection({{"function", "hello"}, {"memory", "65G"}}).substr(0, 27), "memory: '65G' is out of ran");
  EXPECT_EQ(rejection({{"function", "hello"}, {"memory", "99999999999999999999999G"}}).substr(0, 8), "memory: ");
  EXPECT_EQ(rejection({{"function", "hello"}, {"memory", "4194304"}}), "<accepted>");
}

TEST(JobTest, CpuIsCoresWithinItsRange) {
  EXPECT_EQ(rejection({{"function", "hello"}, {"cpu", "0"}}),
            "cpu: '0' is out of range; use cores from 0.01 to 256, e.g. 0.5 or 2");
  EXPECT_EQ(rejection({{"function", "hello"}, {"cpu", "many"}}),
            "cpu: 'many' is not a number; use cores from 0.01 to 256, e.g. 0.5 or 2");
  EXPECT_EQ(rejection({{"function", "hello"}, {"cpu", "2"}}), "<accepted>");
}

TEST(JobTest, FunctionMustBeGivenAndKnown) {
  EXPECT_EQ(rejection({{"input", "{}"}}),
            "function: missing; name the function to run, e.g. function hello (known functions are hello, sleep)");
  EXPECT_EQ(rejection({{"function", "helo"}}),
            "function: 'helo' is not a known function; known functions are hello, sleep");
}

TEST(JobTest, InputMustBeJsonWithinOneMebibyte) {
  EXPECT_EQ(rejection({{"function", "hello"}, {"input", "{name: Ada}"}}),
            "input: '{name: Ada}' is not valid JSON; send JSON text, e.g. {\"name\":\"Ada\"}");
  EXPECT_EQ(rejection({{"function", "hello"}, {"input", "\"just a string\""}}), "<accepted>");
  std::string big = "\"" + std::string(kMaxInputBytes, 'a') + "\"";
  EXPECT_EQ(rejection({{"function", "hello"}, {"input", big}}),
            "input: 1048578 bytes is too large; the limit is 1 MiB (1048576 bytes)");
}

// The JSON parser would stop at a NUL as at the end of the text and accept what comes before it.
TEST(JobTest, JsonFollowedByANulIsNotJson) {
  std::string input = std::string(R"({"name":"Ada"})") + '\0' + "tail";
  EXPECT_EQ(rejection({{"function", "hello"}, {"input", input}}),
            "input: '{\"name\":\"Ada\"}\\x00tail' is not valid JSON; send JSON text, e.g. {\"name\":\"Ada\"}");
  std::string files = std::string(R"({"a.txt":"k"})") + '\0';
  EXPECT_NE(rejection({{"function", "hello"}, {"files", files}}).find("files: "), std::string::npos);
  EXPECT_NE(rejection({{"function", "hello"}, {"files", files}}).find("is not valid JSON"), std::string::npos);
}

TEST(JobTest, UnknownAndRepeatedFieldsAreRejected) {
  EXPECT_EQ(rejection({{"function", "hello"}, {"timout", "5"}}),
            "unknown field 'timout'; the fields are function, input, timeout, memory, cpu, files and out");
  EXPECT_EQ(rejection({{"function", "hello"}, {"timeout", "5"}, {"timeout", "6"}}),
            "field 'timeout' is given twice; give each field once");
}

// A field over its size rule is neither kept nor stored; read as its size only (queue/reply_limits.h) it
// gets the same sentence as when it was read whole.
TEST(JobTest, FieldsOverTheirSizeRuleAreNotKept) {
  ParsedJob parsed = parse({{"function", "hello"}, {"input", std::string(kMaxInputBytes + 1, ' ')}});
  EXPECT_EQ(parsed.rejection.value_or(""), "input: 1048577 bytes is too large; the limit is 1 MiB (1048576 bytes)");
  EXPECT_TRUE(parsed.job.input_over_rule);
  EXPECT_TRUE(parsed.job.input.empty());

  StreamField unread("input", "");
  unread.unread_value_bytes = 67108864;
  parsed = parse({{"function", "hello"}, unread});
  EXPECT_EQ(parsed.rejection.value_or(""), "input: 67108864 bytes is too large; the limit is 1 MiB (1048576 bytes)");
  EXPECT_TRUE(parsed.job.input_over_rule);

  parsed = parse({{"function", "hello"}, {"files", std::string(kMaxFilesFieldBytes + 1, ' ')}});
  EXPECT_EQ(parsed.rejection.value_or(""), "files: 1048577 bytes is too large; the limit is 1 MiB (1048576 bytes)");
  EXPECT_TRUE(parsed.job.files_json.empty());

  parsed = parse({{"function", std::string(65, 'f')}});
  EXPECT_EQ(parsed.rejection.value_or(""), "function: 65 bytes is too large; a function name is at most 64 characters");
  EXPECT_TRUE(parsed.job.function.empty());

  StreamField timeout("timeout", "");
  timeout.unread_value_bytes = 2000000;
  EXPECT_EQ(rejection({{"function", "hello"}, timeout}),
            "timeout: 2000000 bytes is too large; use seconds > 0 and <= 300, e.g. 5 or 2.5");
  StreamField name("", "x");
  name.unread_name_bytes = 3000000;
  EXPECT_EQ(rejection({{"function", "hello"}, name}),
            "a field name of 3000000 bytes is not a job field; the fields are function, input, timeout, memory, cpu, "
            "files and out");
}

// An entry with more fields than a job has was read as its first fields and their number.
TEST(JobTest, AnEntryWithMoreFieldsThanAJobHasIsRejectedByItsCount) {
  StreamFields fields{{"function", "hello"}, {"f", "x"}};
  fields.total_fields = 500001;
  ParsedJob parsed = parse(fields);
  EXPECT_EQ(parsed.rejection.value_or(""),
            "the entry has 500001 fields; a job has at most 7: function, input, timeout, memory, cpu, files and out");
  EXPECT_EQ(parsed.job.function, "hello") << "the record still names the function";
  EXPECT_EQ(rejection({{"function", "hello"}, {"input", "1"}, {"timeout", "1"}, {"memory", "4M"}, {"cpu", "1"},
                       {"files", "{}"}, {"out", "o"}}),
            "<accepted>")
      << "seven fields are a job";
}

TEST(JobTest, RejectedJobKeepsWhatWasSentForTheRecord) {
  ParsedJob parsed = parse({{"function", "hello"}, {"input", "not json"}});
  ASSERT_TRUE(parsed.rejection);
  EXPECT_EQ(parsed.job.function, "hello");
  EXPECT_EQ(parsed.job.input, "not json");
}

TEST(JobTest, BinaryValuesAreQuotedPrintablyAndShort) {
  std::string binary("\x01\xff\x00z", 4);
  EXPECT_EQ(quote_value(binary), "'\\x01\\xff\\x00z'");
  EXPECT_EQ(quote_value(std::string(100, 'x')), "'" + std::string(64, 'x') + "...'");
}

TEST(JobTest, SizesAcceptSuffixesInPowersOf1024) {
  EXPECT_EQ(parse_size_bytes("512k"), 512ULL << 10);
  EXPECT_EQ(parse_size_bytes("256M"), 256ULL << 20);
  EXPECT_EQ(parse_size_bytes("1G"), 1ULL << 30);
  EXPECT_EQ(parse_size_bytes("4096"), 4096ULL);
  EXPECT_FALSE(parse_size_bytes("1.5G"));
  EXPECT_FALSE(parse_size_bytes("-1M"));
  EXPECT_FALSE(parse_size_bytes("M"));
  EXPECT_FALSE(parse_size_bytes("18446744073709551615G"));
}

TEST(JobTest, StreamIdMilliseconds) {
  EXPECT_EQ(stream_id_milliseconds("1700000000123-7"), 1700000000123);
  EXPECT_FALSE(stream_id_milliseconds("abc-1"));
}

}  // namespace
}  // namespace hutch
