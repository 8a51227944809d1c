#include "cli/redis_client.h"

#include <poll.h>

#include <cerrno>

namespace hutch::cli {
namespace {

constexpr timeval kConnectTimeout{5, 0};
// The CLI's blocking reads (XREAD BLOCK) last at most a second; a reply that takes this long means Redis
// stopped answering, and saying so beats hanging.
constexpr timeval kReplyTimeout{30, 0};

}  // namespace

std::string redis_endpoint(const RedisAddress &address) {
  if (address.is_unix()) return address.unix_path;
  std::string host = address.host.find(':') == std::string::npos ? address.host : "[" + address.host + "]";
  return host + ":" + std::to_string(address.port);
}

Result<RedisClient> RedisClient::connect(const RedisAddress &address) {
  std::string endpoint = redis_endpoint(address);
  redisContext *context = address.is_unix()
                              ? redisConnectUnixWithTimeout(address.unix_path.c_str(), kConnectTimeout)
                              : redisConnectWithTimeout(address.host.c_str(), address.port, kConnectTimeout);
  if (context == nullptr) return fail(make_error("cannot reach Redis at " + endpoint + ": out of memory"));
  RedisClient client(context, endpoint);
  if (context->err) return fail(make_error("cannot reach Redis at " + endpoint + ": " + context->errstr));
  if (redisSetTimeout(context, kReplyTimeout) != REDIS_OK) return fail(client.connection_error());
  if (std::vector<std::string> auth = address.auth_command(); !auth.empty()) {
    // The command's own error would quote no password either, but name the user it tried.
    auto authenticated = client.command(auth);
    if (!authenticated)
      return fail(authenticated.error().context("cannot use Redis at " + endpoint +
                                                (address.user.empty() ? "" : " as user " + address.user)));
  }
  if (address.database != 0) {
    auto select = client.command({"SELECT", std::to_string(address.database)});
    if (!select) return fail(select.error().context("cannot use Redis at " + endpoint));
  }
  return client;
}

Error RedisClient::connection_error() const {
  std::string reason = context_->err ? context_->errstr : "unknown error";
  return make_error("lost the connection to Redis at " + endpoint_ + ": " + reason);
}

Result<Reply> RedisClient::command(const std::vector<std::string> &args) {
  TRY_STATUS(append(args));
  return next_reply();
}

Status RedisClient::append(const std::vector<std::string> &args) {
  std::vector<const char *> argv;
  std::vector<size_t> lengths;
  for (const auto &arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  if (redisAppendCommandArgv(context_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data()) !=
      REDIS_OK)
    return fail(connection_error());
  pending_commands_.push_back(args.empty() ? "" : args.front());
  return {};
}

Result<Reply> RedisClient::next_reply() {
  void *raw = nullptr;
  if (redisGetReply(context_.get(), &raw) != REDIS_OK) return fail(connection_error());
  return checked(Reply(static_cast<redisReply *>(raw)));
}

Result<Reply> RedisClient::checked(Reply reply) {
  std::string command;
  if (!pending_commands_.empty()) {
    command = pending_commands_.front();
    pending_commands_.pop_front();
  }
  if (reply && reply->type == REDIS_REPLY_ERROR) {
    std::string error(reply->str, reply->len);
    // Under ACLs (docs/security.md) each role may run only its verbs: say which setting decides.
    std::string hint = error.starts_with("NOPERM") ? "; the Redis user of --redis (or HUTCH_REDIS) may not do "
                                                     "this: each hutch role has its own user (hutch acl)"
                                                   : "";
    return fail(make_error("Redis refused " + command + ": " + error + hint));
  }
  return reply;
}

Result<Reply> RedisClient::poll_reply(int timeout_ms) {
  redisContext *context = context_.get();
  void *raw = nullptr;
  // A reply may already sit in hiredis' buffer from an earlier read; only wait on the socket when not.
  if (redisReaderGetReply(context->reader, &raw) != REDIS_OK)
    return fail(make_error("bad reply from Redis at " + endpoint_ + ": " + context->reader->errstr));
  if (raw == nullptr) {
    pollfd readable{context->fd, POLLIN, 0};
    int ready = ::poll(&readable, 1, timeout_ms);
    if (ready < 0 && errno != EINTR) return fail(errno_error("poll on the Redis connection"));
    if (ready <= 0) return Reply();
    if (redisBufferRead(context) != REDIS_OK) return fail(connection_error());
    if (redisReaderGetReply(context->reader, &raw) != REDIS_OK)
      return fail(make_error("bad reply from Redis at " + endpoint_ + ": " + context->reader->errstr));
  }
  Reply reply(static_cast<redisReply *>(raw));
  if (reply && reply->type == REDIS_REPLY_ERROR)
    return fail(make_error("Redis at " + endpoint_ + ": " + std::string(reply->str, reply->len)));
  return reply;
}

bool reply_is_nil(const redisReply *reply) { return reply == nullptr || reply->type == REDIS_REPLY_NIL; }

std::string reply_text(const redisReply *reply) {
  if (reply == nullptr) return "";
  if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS) return {reply->str, reply->len};
  if (reply->type == REDIS_REPLY_INTEGER) return std::to_string(reply->integer);
  return "";
}

FieldList reply_field_pairs(const redisReply *reply) {
  FieldList fields;
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return fields;
  for (size_t i = 0; i + 1 < reply->elements; i += 2)
    fields.emplace_back(reply_text(reply->element[i]), reply_text(reply->element[i + 1]));
  return fields;
}

std::vector<StreamEntry> reply_stream_entries(const redisReply *reply) {
  std::vector<StreamEntry> entries;
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return entries;
  for (size_t i = 0; i < reply->elements; ++i) {
    const redisReply *entry = reply->element[i];
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements < 2) continue;
    entries.push_back({reply_text(entry->element[0]), reply_field_pairs(entry->element[1])});
  }
  return entries;
}

}  // namespace hutch::cli
