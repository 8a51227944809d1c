// One asynchronous Redis connection on the libuv loop (hiredis' async API), that survives Redis going away.
//
// Writes are batches: a batch (one command, or MULTI ... EXEC) is sent whole and, if the connection drops
// before all its replies arrived, sent again whole after reconnecting, in the original order. So a write is
// never lost while the supervisor lives (at-least-once; every write hutch makes is idempotent or harmless
// to repeat). Commands issued while Redis is away wait in memory and go out, in order, once it is back.
// Blocking reads (XREADGROUP BLOCK) go on a connection of their own, or they would hold every write behind
// them; they are sent with retry off and re-issued by their owner when the connection is ready again.
#pragma once

#include <hiredis/async.h>
#include <uv.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "queue/record.h"
#include "queue/redis_url.h"
#include "queue/reply_limits.h"

namespace hutch {

class RedisConnection {
 public:
  // `reply` is the last command's reply (EXEC's for a transaction), or nullptr when the batch was given up
  // (retry off and the connection dropped). Only valid during the call.
  using ReplyCallback = std::function<void(const redisReply *reply)>;

  struct Events {
    std::function<void()> on_ready;                        // connected (again), AUTH/SELECT/SETNAME accepted
    std::function<void(const std::string &why)> on_down;   // lost or could not connect; reconnecting
    // libuv refused a timer this connection needs to reconnect or to give up on a hung attempt: it would
    // stay down for good, silently, so the owner must stop (hutchd exits and its service manager restarts it).
    std::function<void(const std::string &why)> on_failed;
  };

  RedisConnection(uv_loop_t *loop, RedisAddress address, std::string client_name);
  ~RedisConnection();
  RedisConnection(const RedisConnection &) = delete;
  RedisConnection &operator=(const RedisConnection &) = delete;

  // Fails when libuv refuses its timers; the connection then never starts.
  Status start(Events events);
  void send(Command command, ReplyCallback callback = {}, bool retry = true);
  void send_batch(std::vector<Command> commands, ReplyCallback callback = {}, bool retry = true);

  // Replies on this connection are built within `limits` (queue/reply_limits.h), which must outlive it.
  void limit_replies(const ReplyLimits *limits) { reply_limits_ = limits; }

  bool is_ready() const { return state_ == State::kReady; }
  // Batches sent but not yet answered, plus those waiting for a connection.
  size_t outstanding() const { return in_flight_ + unsent_.size(); }
  // Stops reconnecting and disconnects once the replies in flight have arrived; `on_closed` runs after.
  void close(std::function<void()> on_closed);

 private:
  // kSettingUp: the socket is connected, AUTH, SELECT and CLIENT SETNAME are not answered yet.
  enum class State { kDisconnected, kConnecting, kSettingUp, kReady, kClosing, kClosed };
  struct Batch;
  struct Slot;

  void connect();
  void abandon_connect();
  void schedule_reconnect();
  void attach_failed(const std::string &why);
  void fail_for_good(const std::string &why);
  void transmit(std::unique_ptr<Batch> batch);
  void flush_unsent();
  void on_reply(Batch *batch, const redisReply *reply);
  void finish_batch(Batch *batch, const redisReply *last_reply);
  void on_setup_reply(const std::string &what, bool last, const redisReply *reply);

  static void handle_connect(const redisAsyncContext *context, int status);
  static void handle_disconnect(const redisAsyncContext *context, int status);
  static void handle_reply(redisAsyncContext *context, void *reply, void *privdata);

  uv_loop_t *loop_;
  RedisAddress address_;
  std::string client_name_;
  Events events_;
  State state_ = State::kDisconnected;
  redisAsyncContext *context_ = nullptr;
  uv_timer_t *reconnect_timer_ = nullptr;  // made by start(), freed in its close callback as libuv requires
  // hiredis 0.14's libuv adapter drops poll errors, so a refused TCP connect never calls back: an attempt
  // that has not connected within kConnectTimeoutMs is abandoned and retried.
  uv_timer_t *connect_timer_ = nullptr;
  const ReplyLimits *reply_limits_ = nullptr;
  uint64_t backoff_ms_ = 100;
  bool said_down_ = false;
  std::string setup_refusal_;  // why Redis refused the connection's set-up; "" while it did not
  size_t in_flight_ = 0;
  std::deque<std::unique_ptr<Batch>> unsent_;
  std::function<void()> on_closed_;
};

// Reply helpers.
std::string reply_string(const redisReply *reply);
bool reply_is_error(const redisReply *reply);

}  // namespace hutch
