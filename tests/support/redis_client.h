// A small synchronous Redis client for tests: the same commands a user would type into redis-cli, with
// owned replies and bounded waits. It talks to Redis directly and never through hutch's code, so a test
// checks the protocol as written in docs/protocol.md.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

struct redisContext;

namespace hutch::test {

using namespace std::chrono_literals;

struct Reply {
  enum class Type { kNil, kString, kStatus, kError, kInteger, kArray };
  Type type = Type::kNil;
  std::string text;            // kString, kStatus and kError
  long long integer = 0;       // kInteger
  std::vector<Reply> elements; // kArray

  bool is_error() const { return type == Type::kError; }
  std::string describe() const;  // for assertion messages
};

using Fields = std::map<std::string, std::string>;
// Field/value pairs in order; a job may name a field twice, so this is not a map.
using JobFields = std::vector<std::pair<std::string, std::string>>;

struct StreamEntry {
  std::string id;
  JobFields fields;  // in the order they were added
  // The value of `name`, or "" when absent.
  std::string get(const std::string &name) const;
  bool has(const std::string &name) const;
};

// The statuses after which a record never changes (docs/protocol.md, "Status words").
const std::set<std::string> &final_statuses();

class RedisClient {
 public:
  // Connects to redis://host:port[/db] or unix:///path; throws std::runtime_error when it cannot (a test
  // cannot do anything without Redis, and gtest reports the exception as the failure).
  explicit RedisClient(const std::string &url);
  ~RedisClient();
  RedisClient(const RedisClient &) = delete;
  RedisClient &operator=(const RedisClient &) = delete;

  // Any command; an I/O error reconnects once and comes back as a kError reply.
  Reply command(const std::vector<std::string> &args);

  // Sends every command before reading any reply (one round trip for thousands of commands); a reply per
  // command, in order. An I/O error ends the batch: the commands without a reply get a kError reply.
  std::vector<Reply> pipeline(const std::vector<std::vector<std::string>> &commands);

  Fields hgetall(const std::string &key);
  // XADD hutch:jobs * <fields>; returns the execution id (fails the test and returns "" on error).
  std::string xadd_job(const JobFields &fields);
  std::vector<StreamEntry> xrange(const std::string &key);

  // The record of execution `id` (empty when there is none yet).
  Fields record(const std::string &id) { return hgetall(execution_key(id)); }
  static std::string execution_key(const std::string &id);
  static std::string logs_key(const std::string &id);

  // Polls the record every 20 ms until `done(record)` holds or `timeout` passes. On timeout it adds a test
  // failure naming the last record seen and returns that record, so the caller's own assertions still run.
  Fields wait_for_record(const std::string &id, const std::function<bool(const Fields &)> &done,
                         std::chrono::milliseconds timeout, const std::string &what);
  Fields wait_for_status(const std::string &id, const std::set<std::string> &statuses,
                         std::chrono::milliseconds timeout);
  Fields wait_for_final(const std::string &id, std::chrono::milliseconds timeout) {
    return wait_for_status(id, final_statuses(), timeout);
  }

 private:
  void connect();

  std::string url_;
  redisContext *context_ = nullptr;
};

// SUBSCRIBE on its own connection (a subscribed connection can do nothing else).
class Subscriber {
 public:
  Subscriber(const std::string &url, const std::string &channel);  // returns once the server confirmed
  ~Subscriber();
  Subscriber(const Subscriber &) = delete;
  Subscriber &operator=(const Subscriber &) = delete;

  // The next message published on the channel, or nullopt after `timeout`.
  std::optional<std::string> next_message(std::chrono::milliseconds timeout);
  // False once the connection failed (e.g. the server went away): next_message then only returns nullopt.
  bool connected() const;

 private:
  std::optional<Reply> next_reply(std::chrono::milliseconds timeout);
  redisContext *context_ = nullptr;
};

std::string describe_fields(const Fields &fields);

}  // namespace hutch::test
