// A stored function definition's rules (queue/function_definition.h): what hutchd and the CLI accept from
// hutch:fn:<name> and hutch:blob:<sha256>, and the sentences for what they refuse. The scripts' replies are
// built by hand (fake_reply.h), as Redis would shape them.
#include "queue/function_definition.h"

#include "gtest/gtest.h"
#include "tests/unit/fake_reply.h"

namespace hutch {
namespace {

const std::string kSha(64, 'a');

FieldPairs good(const std::string &name = "f") {
  return {{"name", name},           {"entry", "python3 main.py"}, {"package_sha256", kSha},
          {"package_bytes", "100"}, {"description", "d"},         {"function", name},
          {"created_at", "2026-11-21T23:30:47.123Z"}, {"updated_at", "2026-11-21T23:30:47.123Z"}};
}

FieldPairs with(FieldPairs fields, const std::string &field, const std::string &value) {
  for (auto &[name, old] : fields) {
    if (name == field) {
      old = value;
      return fields;
    }
  }
  fields.emplace_back(field, value);
  return fields;
}

std::string refusal(const FieldPairs &fields, const std::string &key_name = "f") {
  auto parsed = definition_from_fields(fields, key_name);
  return parsed ? "(accepted)" : parsed.error().message;
}

TEST(FunctionDefinitionTest, AWellFormedDefinitionReadsBackAsWritten) {
  auto parsed = definition_from_fields(with(good(), "timeout", "15"), "f");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->entry, "python3 main.py");
  EXPECT_EQ(parsed->package_bytes, 100u);
  EXPECT_EQ(parsed->timeout_seconds, 15.0);
  auto again = definition_from_fields(definition_fields(*parsed), "f");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->package_sha256, kSha);
}

TEST(FunctionDefinitionTest, TheChecksumIsExactly64LowercaseHexDigits) {
  for (const std::string &value : {std::string("../../../../../etc"), std::string(64, 'A'), kSha.substr(1),
                                   kSha.substr(1) + "g", kSha.substr(1) + std::string(1, '\0'), kSha + "a"}) {
    EXPECT_EQ(refusal(with(good(), "package_sha256", value)),
              "hutch:fn:f: package_sha256 " + quote_value(value) + " is not a SHA-256 (64 lowercase hex digits)");
  }
}

TEST(FunctionDefinitionTest, EachFieldIsCheckedAgainstItsRule) {
  EXPECT_EQ(refusal(good("g")), "hutch:fn:f: name 'g' is not the key's name 'f'");
  EXPECT_EQ(refusal(with(good(), "entry", "a\x1b[31mb")), "hutch:fn:f: entry 'a\\x1b[31mb' holds control characters; use printable text");
  EXPECT_EQ(refusal(with(good(), "entry", "python3 'x")), "hutch:fn:f: entry: 'python3 'x' has an unclosed ' quote");
  EXPECT_EQ(refusal(with(good(), "entry", std::string(4097, 'x'))), "hutch:fn:f: entry is 4097 bytes; at most 4096");
  EXPECT_EQ(refusal(with(good(), "description", "two\nlines")),
            "hutch:fn:f: description 'two\\x0alines' holds control characters; use printable text");
  EXPECT_EQ(refusal(with(good(), "package_bytes", "0")),
            "hutch:fn:f: package_bytes '0' is not a number of bytes from 1 to 67108864 (64 MiB)");
  EXPECT_EQ(refusal(with(good(), "package_bytes", " 5")),
            "hutch:fn:f: package_bytes ' 5' is not a number of bytes from 1 to 67108864 (64 MiB)");
  EXPECT_EQ(refusal(with(good(), "executions", "-3")), "hutch:fn:f: executions '-3' is not a count");
  EXPECT_EQ(refusal(with(good(), "updated_at", "2026-11-21 23:30:47")),
            "hutch:fn:f: updated_at '2026-11-21 23:30:47' is not a UTC time like 2026-11-21T23:30:47.123Z");
  EXPECT_EQ(refusal(with(good(), "memory", "1T")),
            "hutch:fn:f: memory: '1T' is not a size; use bytes with an optional K, M or G suffix, from 4M to 64G, e.g. 256M");
  EXPECT_EQ(refusal(with(good(), "package", "a/b")),
            "hutch:fn:f: package 'a/b' is not a package name; use 1-64 letters, digits, '_', '.' or '-', starting with a "
            "letter or digit");
  EXPECT_EQ(refusal(with(good(), "extra\n", "1")),
            "hutch:fn:f: unknown field 'extra\\x0a'; a definition has name, entry, package_sha256, package_bytes, "
            "description, package, function, timeout, memory, cpu, created_at, updated_at, executions");
  FieldPairs no_bytes = good();
  no_bytes.erase(no_bytes.begin() + 3);
  EXPECT_EQ(refusal(no_bytes), "hutch:fn:f: package_bytes is missing");
}

TEST(FunctionDefinitionTest, WhatTheCliWouldStoreIsCheckedByTheSameRules) {
  auto parsed = definition_from_fields(good(), "f");
  ASSERT_TRUE(parsed);
  FunctionDefinition definition = *parsed;
  definition.description = std::string(1025, 'd');
  Status checked = check_definition(definition);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().message, "description is 1025 bytes; at most 1024");
}

TEST(FunctionDefinitionTest, TheDefinitionScriptsReplyNamesWhatIsTooLarge) {
  FakeReply fake;
  auto message = [](const Result<std::optional<FieldPairs>> &parsed) {
    return parsed ? std::string("(accepted)") : parsed.error().message;
  };
  EXPECT_EQ(message(parse_definition_reply("f", fake.array({fake.string("type"), fake.string("string")}))),
            "hutch:fn:f is a string, not a hash");
  EXPECT_EQ(message(parse_definition_reply("f", fake.array({fake.string("fields"), fake.integer(1008)}))),
            "hutch:fn:f has 1008 fields; a definition has at most 16");
  EXPECT_EQ(message(parse_definition_reply("f", fake.array({fake.string("field"), fake.string("description"),
                                                            fake.integer(10485760)}))),
            "hutch:fn:f: description is 10485760 bytes; no field of a definition is longer than 4096");
  EXPECT_EQ(message(parse_definition_reply("f", fake.array({fake.string("field"), fake.string("x\x1b"), fake.integer(5000)}))),
            "hutch:fn:f: 'x\\x1b' is 5000 bytes; no field of a definition is longer than 4096");
  EXPECT_EQ(message(parse_definition_reply("f", fake.string("ERR boom\n", REDIS_REPLY_ERROR))),
            "hutch:fn:f could not be read: 'ERR boom\\x0a'");
  auto missing = parse_definition_reply("f", fake.array({fake.string("ok")}));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  auto found = parse_definition_reply("f", fake.array({fake.string("ok"), fake.string("name"), fake.string("f")}));
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ(**found, (FieldPairs{{"name", "f"}}));
}

TEST(FunctionDefinitionTest, TheBlobScriptsReplyRefusesByTypeAndSize) {
  FakeReply fake;
  auto message = [](const Result<std::string> &parsed) { return parsed ? "(accepted)" : parsed.error().message; };
  EXPECT_EQ(message(parse_blob_reply(kSha, fake.array({fake.string("missing")}))),
            "hutch:blob:" + kSha + " is missing from Redis; update the function with its code again");
  EXPECT_EQ(message(parse_blob_reply(kSha, fake.array({fake.string("type"), fake.string("list")}))),
            "hutch:blob:" + kSha + " is a list, not a string; update the function with its code again");
  EXPECT_EQ(message(parse_blob_reply(kSha, fake.array({fake.string("size"), fake.integer(209715200)}))),
            "hutch:blob:" + kSha + " is 209715200 bytes, more than the 64 MiB a package may have; update the function "
            "with its code again");
  auto blob = parse_blob_reply(kSha, fake.array({fake.string("ok"), fake.string(std::string("a\0b", 3))}));
  ASSERT_TRUE(blob);
  EXPECT_EQ(*blob, std::string("a\0b", 3));
}

}  // namespace
}  // namespace hutch
