// The Redis server an integration test talks to. scripts/test starts one server for the whole run and exports
// HUTCH_TEST_REDIS_URL; without it (a developer running one test binary) each RedisServer starts its own
// redis-server on a free loopback port, not daemonized, and kills it when it goes away.
#pragma once

#include <sys/types.h>

#include <string>

#include "gtest/gtest.h"

namespace hutch::test {

class RedisServer {
 public:
  RedisServer() = default;
  ~RedisServer();
  RedisServer(const RedisServer &) = delete;
  RedisServer &operator=(const RedisServer &) = delete;

  // Uses HUTCH_TEST_REDIS_URL or starts a server, then waits (bounded) until PING answers and FLUSHALLs, so
  // a test never sees another test's keys. `own`: always start one, for a test that stops and restarts it.
  testing::AssertionResult start(bool own = false);

  const std::string &url() const { return url_; }
  bool self_started() const { return self_started_; }

  // Only for a self-started server: stop() kills it and waits for it to die; restart() starts it again on
  // the same port (so a running hutchd can reconnect), with an empty data set unless it is append-only.
  testing::AssertionResult stop();
  testing::AssertionResult restart();
  // Only for a self-started server: the SHUTDOWN command (what an operator or a failover script sends), then
  // a bounded wait for the process to end.
  testing::AssertionResult shutdown();

  // Before start(): the server logs every write to an append-only file with fsync on each (appendonly yes,
  // appendfsync always), so restart() brings the data back instead of an empty data set.
  void set_append_only(bool append_only) { append_only_ = append_only; }

  // Before start(own = true): the server loads its users from `acl_file` (redis.conf's aclfile), which must
  // define `admin_user` with `admin_password` and every right; url() then authenticates as that user, so the
  // fixture can still flush and inspect everything.
  void set_acl_file(std::string acl_file, std::string admin_user, std::string admin_password);
  // The server's URL as another user (a password of hex digits or other characters a URL may hold).
  std::string url_as(const std::string &user, const std::string &password) const;

 private:
  testing::AssertionResult launch();
  testing::AssertionResult wait_until_answers();

  std::string url_;
  bool self_started_ = false;
  bool append_only_ = false;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string directory_;  // redis-server's --dir and its log file
  std::string acl_file_;
  std::string admin_user_, admin_password_;
};

}  // namespace hutch::test
