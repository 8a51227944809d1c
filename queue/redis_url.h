// Where Redis is and who hutch is there: redis://[[user]:password@]host[:port][/db] or
// unix:///path/to/socket[?db=N]. With a user (Redis 6+ ACLs, docs/security.md) the connection sends
// AUTH user password; with a password only, AUTH password (the `default` user).
#pragma once

#include <string>
#include <vector>

#include "common/error.h"

namespace hutch {

struct RedisAddress {
  std::string host;         // empty for a unix socket
  int port = 6379;
  std::string unix_path;    // set for unix:// URLs
  std::string user;         // empty: the default user
  std::string password;     // empty when none
  int database = 0;

  bool is_unix() const { return !unix_path.empty(); }
  // For logs: "127.0.0.1:6379/0", "unix:/run/redis.sock/0" or "10.0.0.5:6379/0 as user hutch-supervisor",
  // never the password.
  std::string describe() const;
  // The AUTH command this address asks for (empty when it asks for none).
  std::vector<std::string> auth_command() const;
};

// Credentials are percent-decoded ("p%40ss" is "p@ss"). An error sentence quotes the URL with its password
// as *** (it ends up in logs and on terminals).
Result<RedisAddress> parse_redis_url(const std::string &url);

// The URL as messages may show it: the password, if any, replaced by ***.
std::string redact_redis_url(const std::string &url);

}  // namespace hutch
