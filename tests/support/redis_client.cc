#include "tests/support/redis_client.h"

#include <hiredis/hiredis.h>
#include <poll.h>

#include <stdexcept>
#include <thread>

#include "gtest/gtest.h"
#include "queue/keys.h"
#include "queue/redis_url.h"

namespace hutch::test {
namespace {

using Clock = std::chrono::steady_clock;

Reply convert(const redisReply *raw) {
  Reply reply;
  if (raw == nullptr) return reply;
  switch (raw->type) {
    case REDIS_REPLY_STRING:
      reply.type = Reply::Type::kString;
      reply.text.assign(raw->str, raw->len);
      break;
    case REDIS_REPLY_STATUS:
      reply.type = Reply::Type::kStatus;
      reply.text.assign(raw->str, raw->len);
      break;
    case REDIS_REPLY_ERROR:
      reply.type = Reply::Type::kError;
      reply.text.assign(raw->str, raw->len);
      break;
    case REDIS_REPLY_INTEGER:
      reply.type = Reply::Type::kInteger;
      reply.integer = raw->integer;
      break;
    case REDIS_REPLY_ARRAY:
      reply.type = Reply::Type::kArray;
      for (size_t i = 0; i < raw->elements; ++i) reply.elements.push_back(convert(raw->element[i]));
      break;
    default:
      reply.type = Reply::Type::kNil;
  }
  return reply;
}

Reply error_reply(std::string text) {
  Reply reply;
  reply.type = Reply::Type::kError;
  reply.text = std::move(text);
  return reply;
}

redisContext *open_context(const std::string &url, std::string *error) {
  auto address = parse_redis_url(url);
  if (!address) {
    *error = address.error().message;
    return nullptr;
  }
  timeval connect_timeout{2, 0};
  redisContext *context = address->is_unix()
                              ? redisConnectUnixWithTimeout(address->unix_path.c_str(), connect_timeout)
                              : redisConnectWithTimeout(address->host.c_str(), address->port, connect_timeout);
  if (context == nullptr || context->err) {
    *error = "connect to " + address->describe() + ": " + (context ? context->errstr : "out of memory");
    if (context) redisFree(context);
    return nullptr;
  }
  // No test command should take long; a hung server fails the test instead of hanging it.
  redisSetTimeout(context, timeval{10, 0});
  auto run = [&](std::vector<std::string> args) {
    std::vector<const char *> argv;
    std::vector<size_t> lengths;
    for (auto &arg : args) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    auto *raw = static_cast<redisReply *>(
        redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data()));
    Reply reply = raw ? convert(raw) : error_reply(context->errstr);
    if (raw) freeReplyObject(raw);
    return reply;
  };
  if (std::vector<std::string> auth = address->auth_command(); !auth.empty()) {
    if (Reply reply = run(auth); reply.is_error()) *error = "AUTH: " + reply.text;
  }
  if (error->empty() && address->database != 0) {
    if (Reply reply = run({"SELECT", std::to_string(address->database)}); reply.is_error())
      *error = "SELECT: " + reply.text;
  }
  if (!error->empty()) {
    redisFree(context);
    return nullptr;
  }
  return context;
}

Fields pairs_to_fields(const Reply &array) {
  Fields fields;
  for (size_t i = 0; i + 1 < array.elements.size(); i += 2)
    fields[array.elements[i].text] = array.elements[i + 1].text;
  return fields;
}

}  // namespace

std::string Reply::describe() const {
  switch (type) {
    case Type::kNil: return "(nil)";
    case Type::kString: return "\"" + text + "\"";
    case Type::kStatus: return text;
    case Type::kError: return "(error) " + text;
    case Type::kInteger: return "(integer) " + std::to_string(integer);
    case Type::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < elements.size(); ++i) out += (i ? ", " : "") + elements[i].describe();
      return out + "]";
    }
  }
  return "?";
}

std::string StreamEntry::get(const std::string &name) const {
  for (const auto &[field, value] : fields)
    if (field == name) return value;
  return "";
}

bool StreamEntry::has(const std::string &name) const {
  for (const auto &[field, value] : fields)
    if (field == name) return true;
  return false;
}

const std::set<std::string> &final_statuses() {
  static const std::set<std::string> statuses = {"succeeded", "failed", "timeout", "oom",
                                                 "killed",    "rejected", "error", "abandoned"};
  return statuses;
}

std::string describe_fields(const Fields &fields) {
  if (fields.empty()) return "(no record)";
  std::string out = "{";
  for (const auto &[field, value] : fields) {
    std::string shown = value.size() > 200 ? value.substr(0, 200) + "...(" + std::to_string(value.size()) + " bytes)" : value;
    out += (out.size() > 1 ? ", " : "") + field + ": " + shown;
  }
  return out + "}";
}

RedisClient::RedisClient(const std::string &url) : url_(url) { connect(); }

RedisClient::~RedisClient() {
  if (context_) redisFree(context_);
}

void RedisClient::connect() {
  if (context_) redisFree(context_);
  std::string error;
  context_ = open_context(url_, &error);
  if (context_ == nullptr) throw std::runtime_error("test Redis client: " + error);
}

Reply RedisClient::command(const std::vector<std::string> &args) {
  std::vector<const char *> argv;
  std::vector<size_t> lengths;
  for (const auto &arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  // A sync hiredis context is unusable after an I/O error, and a connection to a server that was restarted
  // fails on its first use: reconnect and try once more. Tests restart Redis only between commands, so a
  // command that failed this way never reached the server.
  std::string last_error;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (context_->err) {
      std::string error;
      redisContext *fresh = open_context(url_, &error);
      if (fresh == nullptr) return error_reply("reconnect: " + error);
      redisFree(context_);
      context_ = fresh;
    }
    auto *raw = static_cast<redisReply *>(
        redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data()));
    if (raw != nullptr) {
      Reply reply = convert(raw);
      freeReplyObject(raw);
      return reply;
    }
    last_error = context_->errstr;
  }
  return error_reply("I/O error: " + last_error);
}

std::vector<Reply> RedisClient::pipeline(const std::vector<std::vector<std::string>> &commands) {
  std::vector<Reply> replies;
  if (context_->err) connect();  // throws when the server is gone, like the constructor
  for (const auto &args : commands) {
    std::vector<const char *> argv;
    std::vector<size_t> lengths;
    for (const auto &arg : args) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    redisAppendCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data());
  }
  for (size_t i = 0; i < commands.size(); ++i) {
    void *raw = nullptr;
    if (context_->err || redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
      replies.push_back(error_reply(std::string("I/O error: ") + context_->errstr));
      continue;
    }
    replies.push_back(convert(static_cast<redisReply *>(raw)));
    freeReplyObject(raw);
  }
  return replies;
}

Fields RedisClient::hgetall(const std::string &key) {
  Reply reply = command({"HGETALL", key});
  if (reply.is_error()) ADD_FAILURE() << "HGETALL " << key << ": " << reply.text;
  return pairs_to_fields(reply);
}

std::string RedisClient::xadd_job(const JobFields &fields) {
  std::vector<std::string> args = {"XADD", std::string(keys::kJobsStream), "*"};
  for (const auto &[field, value] : fields) {
    args.push_back(field);
    args.push_back(value);
  }
  Reply reply = command(args);
  if (reply.type != Reply::Type::kString) {
    ADD_FAILURE() << "XADD " << keys::kJobsStream << ": " << reply.describe();
    return "";
  }
  return reply.text;
}

std::vector<StreamEntry> RedisClient::xrange(const std::string &key) {
  std::vector<StreamEntry> entries;
  Reply reply = command({"XRANGE", key, "-", "+"});
  if (reply.is_error()) ADD_FAILURE() << "XRANGE " << key << ": " << reply.text;
  for (const auto &raw_entry : reply.elements) {
    if (raw_entry.elements.size() != 2) continue;
    StreamEntry entry;
    entry.id = raw_entry.elements[0].text;
    const auto &pairs = raw_entry.elements[1].elements;
    for (size_t i = 0; i + 1 < pairs.size(); i += 2) entry.fields.emplace_back(pairs[i].text, pairs[i + 1].text);
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::string RedisClient::execution_key(const std::string &id) { return keys::execution_record(id); }
std::string RedisClient::logs_key(const std::string &id) { return keys::execution_logs(id); }

Fields RedisClient::wait_for_record(const std::string &id, const std::function<bool(const Fields &)> &done,
                                    std::chrono::milliseconds timeout, const std::string &what) {
  auto deadline = Clock::now() + timeout;
  Fields last;
  for (;;) {
    last = record(id);
    if (done(last)) return last;
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(20ms);
  }
  ADD_FAILURE() << "execution " << id << " did not reach " << what << " within " << timeout.count()
                << " ms; last record: " << describe_fields(last);
  return last;
}

Fields RedisClient::wait_for_status(const std::string &id, const std::set<std::string> &statuses,
                                    std::chrono::milliseconds timeout) {
  std::string what = "status";
  for (const auto &status : statuses) what += " " + status;
  return wait_for_record(
      id,
      [&](const Fields &fields) {
        auto found = fields.find("status");
        return found != fields.end() && statuses.count(found->second) > 0;
      },
      timeout, what);
}

Subscriber::Subscriber(const std::string &url, const std::string &channel) {
  std::string error;
  context_ = open_context(url, &error);
  if (context_ == nullptr) throw std::runtime_error("test Redis subscriber: " + error);
  auto *raw = static_cast<redisReply *>(redisCommand(context_, "SUBSCRIBE %b", channel.data(), channel.size()));
  if (raw == nullptr) throw std::runtime_error(std::string("SUBSCRIBE: ") + context_->errstr);
  freeReplyObject(raw);  // ["subscribe", channel, 1]: the server registered us before answering
}

Subscriber::~Subscriber() {
  if (context_) redisFree(context_);
}

bool Subscriber::connected() const { return context_ != nullptr && context_->err == 0; }

std::optional<Reply> Subscriber::next_reply(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    void *raw = nullptr;
    if (redisGetReplyFromReader(context_, &raw) != REDIS_OK) return std::nullopt;
    if (raw != nullptr) {
      Reply reply = convert(static_cast<redisReply *>(raw));
      freeReplyObject(raw);
      return reply;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return std::nullopt;
    pollfd ready{context_->fd, POLLIN, 0};
    int polled = ::poll(&ready, 1, static_cast<int>(left));
    if (polled < 0 && errno != EINTR) return std::nullopt;
    if (polled > 0 && redisBufferRead(context_) != REDIS_OK) return std::nullopt;
  }
}

std::optional<std::string> Subscriber::next_message(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto reply = next_reply(std::max(left, 0ms));
    if (!reply) return std::nullopt;
    // ["message", channel, payload]; anything else (a late subscribe confirmation) is skipped.
    if (reply->elements.size() == 3 && reply->elements[0].text == "message") return reply->elements[2].text;
  }
}

}  // namespace hutch::test
