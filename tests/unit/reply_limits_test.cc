// The reader connection's reply limits, through hiredis' own protocol reader fed by hand: no server.
#include "queue/reply_limits.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>

namespace hutch {
namespace {

std::string bulk(const std::string &text) { return "$" + std::to_string(text.size()) + "\r\n" + text + "\r\n"; }

struct Reader {
  explicit Reader(const ReplyLimits *limits) : reader(redisReaderCreate()) { limit_replies(reader, limits); }
  ~Reader() { redisReaderFree(reader); }
  std::unique_ptr<redisReply, decltype(&freeReplyObject)> read(const std::string &bytes) {
    EXPECT_EQ(redisReaderFeed(reader, bytes.data(), bytes.size()), REDIS_OK);
    void *reply = nullptr;
    EXPECT_EQ(redisReaderGetReply(reader, &reply), REDIS_OK) << reader->errstr;
    return {static_cast<redisReply *>(reply), freeReplyObject};
  }
  redisReader *reader;
};

TEST(ReplyLimitsTest, AStringOverTheLimitKeepsOnlyItsSize) {
  constexpr ReplyLimits limits{8, 16};
  Reader reader(&limits);
  auto reply = reader.read("*2\r\n" + bulk("12345678") + bulk("123456789"));
  ASSERT_NE(reply, nullptr);
  ASSERT_EQ(reply->elements, 2u);
  EXPECT_EQ(std::string(reply->element[0]->str, reply->element[0]->len), "12345678");
  EXPECT_EQ(unread_string_bytes(reply->element[0]), std::nullopt);
  EXPECT_EQ(reply->element[1]->len, 0u);
  EXPECT_EQ(unread_string_bytes(reply->element[1]), 9u);
  EXPECT_EQ(unread_string_bytes(reader.read(bulk("")).get()), std::nullopt) << "an empty string was read";
}

TEST(ReplyLimitsTest, AnArrayOverTheLimitKeepsItsFirstElementsAndItsCount) {
  constexpr ReplyLimits limits{8, 4};
  Reader reader(&limits);
  // Nested arrays, integers and nils past the limit are dropped too.
  std::string bytes = "*6\r\n" + bulk("a") + ":1\r\n" + "$-1\r\n" + "*5\r\n" + bulk("b") + bulk("c") + bulk("d") +
                      bulk("e") + bulk("f") + "*1\r\n" + bulk("dropped") + ":2\r\n";
  auto reply = reader.read(bytes);
  ASSERT_NE(reply, nullptr);
  ASSERT_EQ(reply->elements, 4u);
  EXPECT_EQ(total_elements(reply.get()), 6u);
  EXPECT_EQ(reply->element[1]->integer, 1);
  EXPECT_EQ(reply->element[2]->type, REDIS_REPLY_NIL);
  const redisReply *nested = reply->element[3];
  ASSERT_EQ(nested->elements, 4u);
  EXPECT_EQ(total_elements(nested), 5u);
  EXPECT_EQ(std::string(nested->element[3]->str, nested->element[3]->len), "e");
  // The reader goes on with the next reply as usual.
  auto next = reader.read(bulk("ok"));
  EXPECT_EQ(std::string(next->str, next->len), "ok");
}

TEST(ReplyLimitsTest, StreamFieldsCarryTheSizesOfWhatWasNotRead) {
  constexpr ReplyLimits limits{8, 4};
  Reader reader(&limits);
  auto reply = reader.read("*6\r\n" + bulk("function") + bulk("hello") + bulk("input") + bulk(std::string(20, ' ')) +
                           bulk("extra") + bulk("x"));
  StreamFields fields = stream_fields_of(reply.get());
  ASSERT_EQ(fields.fields.size(), 2u);
  EXPECT_EQ(fields.total_fields, 3u);
  EXPECT_EQ(fields.fields[0], StreamField("function", "hello"));
  EXPECT_EQ(fields.fields[1].name, "input");
  EXPECT_EQ(fields.fields[1].unread_value_bytes, 20u);
}

}  // namespace
}  // namespace hutch
