#include "queue/redis_url.h"

#include <gtest/gtest.h>

namespace hutch {
namespace {

TEST(RedisUrlTest, HostPortAndDatabase) {
  auto address = parse_redis_url("redis://127.0.0.1:6390/3");
  ASSERT_TRUE(address) << address.error().message;
  EXPECT_EQ(address->host, "127.0.0.1");
  EXPECT_EQ(address->port, 6390);
  EXPECT_EQ(address->database, 3);
  EXPECT_FALSE(address->is_unix());
}

TEST(RedisUrlTest, DefaultsAndPassword) {
  auto address = parse_redis_url("redis://:secret@localhost");
  ASSERT_TRUE(address);
  EXPECT_EQ(address->port, 6379);
  EXPECT_EQ(address->password, "secret");
  EXPECT_EQ(address->describe(), "localhost:6379/0");  // never the password
}

// Redis 6+ ACL users: `AUTH user password` (issue 10). The user was dropped before.
TEST(RedisUrlTest, UserAndPassword) {
  auto address = parse_redis_url("redis://hutch-supervisor:s3cret@10.0.0.5:6380/2");
  ASSERT_TRUE(address) << address.error().message;
  EXPECT_EQ(address->user, "hutch-supervisor");
  EXPECT_EQ(address->password, "s3cret");
  EXPECT_EQ(address->host, "10.0.0.5");
  EXPECT_EQ(address->port, 6380);
  EXPECT_EQ(address->database, 2);
  EXPECT_EQ(address->describe(), "10.0.0.5:6380/2 as user hutch-supervisor");
  EXPECT_EQ(parse_redis_url("redis://:only@h")->user, "");
  EXPECT_EQ(parse_redis_url("redis://legacy@h")->password, "legacy") << "no colon: a password, as before";
  EXPECT_EQ(parse_redis_url("redis://legacy@h")->user, "");
}

// Characters a URL cannot hold as they are ('@', ':', '/', '%', ...) come percent-encoded.
TEST(RedisUrlTest, CredentialsArePercentDecoded) {
  auto address = parse_redis_url("redis://us%3Aer:p%40ss%2Fw%3Ard%25%20x@[::1]:7000");
  ASSERT_TRUE(address) << address.error().message;
  EXPECT_EQ(address->user, "us:er");
  EXPECT_EQ(address->password, "p@ss/w:rd% x");
  EXPECT_EQ(address->host, "::1");
  EXPECT_EQ(parse_redis_url("redis://u:a@b@host")->password, "a@b") << "the last '@' ends the credentials";
  auto bad = parse_redis_url("redis://u:s3cret%zz@host");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("not percent-encoded"), std::string::npos) << bad.error().message;
}

// The password never reaches a message: hutchd logs errors, the CLI prints them.
TEST(RedisUrlTest, ErrorsNeverQuoteThePassword) {
  for (const char *url : {"redis://u:s3cret@host:99999", "redis://u:s3cret@host/x", "redis://u:s3cret%zz@host",
                          "redis://u:s3cret@", "redis://u:s3cret@[::1"}) {
    auto address = parse_redis_url(url);
    ASSERT_FALSE(address) << url;
    EXPECT_EQ(address.error().message.find("s3cret"), std::string::npos) << address.error().message;
    EXPECT_NE(address.error().message.find("redis://u:***@"), std::string::npos) << address.error().message;
  }
}

TEST(RedisUrlTest, Ipv6) {
  auto address = parse_redis_url("redis://[::1]:7000");
  ASSERT_TRUE(address);
  EXPECT_EQ(address->host, "::1");
  EXPECT_EQ(address->port, 7000);
}

TEST(RedisUrlTest, UnixSocket) {
  auto address = parse_redis_url("unix:///run/redis/redis.sock?db=2");
  ASSERT_TRUE(address);
  EXPECT_TRUE(address->is_unix());
  EXPECT_EQ(address->unix_path, "/run/redis/redis.sock");
  EXPECT_EQ(address->database, 2);
}

TEST(RedisUrlTest, BadUrlsSaySo) {
  EXPECT_NE(parse_redis_url("http://x").error().message.find("unknown scheme"), std::string::npos);
  EXPECT_NE(parse_redis_url("redis://host:99999").error().message.find("port '99999'"), std::string::npos);
  EXPECT_NE(parse_redis_url("unix://relative.sock").error().message.find("absolute"), std::string::npos);
  EXPECT_FALSE(parse_redis_url("redis://"));
}

}  // namespace
}  // namespace hutch
