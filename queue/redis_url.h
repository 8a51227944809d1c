// Where Redis is: redis://[:password@]host[:port][/db] or unix:///path/to/socket[?db=N].
#pragma once

#include <string>

#include "common/error.h"

namespace hutch {

struct RedisAddress {
  std::string host;         // empty for a unix socket
  int port = 6379;
  std::string unix_path;    // set for unix:// URLs
  std::string password;     // empty when none
  int database = 0;

  bool is_unix() const { return !unix_path.empty(); }
  std::string describe() const;  // for logs: "127.0.0.1:6379/0" or "unix:/run/redis.sock/0", never the password
};

Result<RedisAddress> parse_redis_url(const std::string &url);

}  // namespace hutch
