// A blocking Redis connection for the CLI. hutchd uses the async API because its loop must never wait; the
// CLI is a short-lived command whose whole job is to wait on Redis, so the synchronous hiredis API keeps every
// verb a straight line. Replies are owned (Reply) and error replies become Errors naming the command.
#pragma once

#include <hiredis/hiredis.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "cli/fields.h"
#include "common/error.h"
#include "queue/redis_url.h"

namespace hutch::cli {

struct ReplyDeleter {
  void operator()(redisReply *reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

// "127.0.0.1:6379" or "/run/redis.sock": how messages name the server (never the password).
std::string redis_endpoint(const RedisAddress &address);

class RedisClient {
 public:
  // Connects, then sends AUTH and SELECT as the URL asks.
  static Result<RedisClient> connect(const RedisAddress &address);

  // One command, one reply.
  Result<Reply> command(const std::vector<std::string> &args);

  // Pipelining: queue commands with append, then read their replies in order with next_reply.
  Status append(const std::vector<std::string> &args);
  Result<Reply> next_reply();

  // For a subscribed connection: a reply if one arrives within timeout_ms, else a null Reply.
  Result<Reply> poll_reply(int timeout_ms);

 private:
  struct ContextDeleter {
    void operator()(redisContext *context) const { redisFree(context); }
  };
  RedisClient(redisContext *context, std::string endpoint) : context_(context), endpoint_(std::move(endpoint)) {}
  Error connection_error() const;
  Result<Reply> checked(Reply reply);

  std::unique_ptr<redisContext, ContextDeleter> context_;
  std::string endpoint_;
  std::deque<std::string> pending_commands_;  // names of appended commands, for error messages
};

// Reply helpers. They accept any reply shape and return empty values for the wrong one: the shapes are
// Redis' own, and a wrong shape can only come from a key that is not what hutch wrote.
bool reply_is_nil(const redisReply *reply);
std::string reply_text(const redisReply *reply);
FieldList reply_field_pairs(const redisReply *reply);              // flat [field, value, ...] array
std::vector<StreamEntry> reply_stream_entries(const redisReply *reply);  // XRANGE shape

}  // namespace hutch::cli
