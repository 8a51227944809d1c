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
