#include "queue/redis_connection.h"

#include <hiredis/adapters/libuv.h>

#include <algorithm>
#include <utility>

namespace hutch {
namespace {

constexpr uint64_t kConnectTimeoutMs = 1000;

Error uv_failure(int status, const std::string &what) { return Error{-status, what + ": " + uv_strerror(status)}; }

Result<uv_timer_t *> new_timer(uv_loop_t *loop, void *owner) {
  auto *timer = new uv_timer_t;
  if (int initialised = uv_timer_init(loop, timer); initialised != 0) {
    delete timer;  // never initialised: nothing for libuv to close
    return fail(uv_failure(initialised, "uv_timer_init"));
  }
  timer->data = owner;
  return timer;
}

void close_timer(uv_timer_t *timer) {
  if (timer == nullptr) return;
  timer->data = nullptr;
  uv_timer_stop(timer);
  uv_close(reinterpret_cast<uv_handle_t *>(timer), [](uv_handle_t *handle) { delete reinterpret_cast<uv_timer_t *>(handle); });
}

}  // namespace

struct RedisConnection::Batch {
  std::vector<Command> commands;
  ReplyCallback callback;
  bool retry = true;
  size_t replies = 0;
  bool failed = false;
};

RedisConnection::RedisConnection(uv_loop_t *loop, RedisAddress address, std::string client_name)
    : loop_(loop), address_(std::move(address)), client_name_(std::move(client_name)) {}

RedisConnection::~RedisConnection() {
  close_timer(reconnect_timer_);
  close_timer(connect_timer_);
  if (context_ != nullptr) {
    context_->data = nullptr;  // callbacks from the free below must not reach a dead object
    redisAsyncFree(context_);
  }
}

Status RedisConnection::start(Events events) {
  events_ = std::move(events);
  TRY_ASSIGN(reconnect_timer_, new_timer(loop_, this));
  TRY_ASSIGN(connect_timer_, new_timer(loop_, this));
  connect();
  return {};
}

// The new context cannot be watched or called back: give it up and try again later, like a refused connect.
void RedisConnection::attach_failed(const std::string &why) {
  redisAsyncFree(std::exchange(context_, nullptr));
  state_ = State::kDisconnected;
  if (!said_down_ && events_.on_down) events_.on_down(why);
  said_down_ = true;
  schedule_reconnect();
}

// The state stays as it is: the owner stops, and closes this connection on its way out.
void RedisConnection::fail_for_good(const std::string &why) {
  if (events_.on_failed) events_.on_failed("Redis connection " + client_name_ + ": " + why);
}

void RedisConnection::connect() {
  state_ = State::kConnecting;
  context_ = address_.is_unix() ? redisAsyncConnectUnix(address_.unix_path.c_str())
                                : redisAsyncConnect(address_.host.c_str(), address_.port);
  if (context_ == nullptr || context_->err) {
    std::string why = context_ ? context_->errstr : "out of memory";
    if (context_) redisAsyncFree(context_);
    context_ = nullptr;
    state_ = State::kDisconnected;
    if (!said_down_ && events_.on_down) events_.on_down(why);
    said_down_ = true;
    schedule_reconnect();
    return;
  }
  context_->data = this;
  if (reply_limits_ != nullptr) hutch::limit_replies(context_->c.reader, reply_limits_);
  // Each fails only for a context already set up (or out of memory): then no reply would ever arrive.
  if (redisLibuvAttach(context_, loop_) != REDIS_OK) return attach_failed("hiredis could not attach to the loop");
  if (redisAsyncSetConnectCallback(context_, handle_connect) != REDIS_OK ||
      redisAsyncSetDisconnectCallback(context_, handle_disconnect) != REDIS_OK)
    return attach_failed("hiredis refused the connection callbacks");
  // hiredis sends these first, once the socket connects; the buffered writes follow in order. The
  // connection is ready once Redis accepted all of them (on_setup_reply).
  setup_refusal_.clear();
  auto check = [this](std::string what, bool last) {
    return [this, what = std::move(what), last](const redisReply *reply) { on_setup_reply(what, last, reply); };
  };
  if (std::vector<std::string> auth = address_.auth_command(); !auth.empty()) {
    std::string what = address_.user.empty() ? "AUTH" : "AUTH as user '" + address_.user + "'";
    send(std::move(auth), check(std::move(what), false), false);
  }
  if (address_.database != 0) send({"SELECT", std::to_string(address_.database)}, check("SELECT", false), false);
  send({"CLIENT", "SETNAME", client_name_}, check("CLIENT SETNAME", true), false);
  flush_unsent();
  int armed = uv_timer_start(
      connect_timer_,
      [](uv_timer_t *timer) {
        auto *self = static_cast<RedisConnection *>(timer->data);
        if (self != nullptr && self->state_ == State::kConnecting) self->abandon_connect();
      },
      kConnectTimeoutMs, 0);
  // Without it a refused connect (which the libuv adapter never reports) would hang this connection.
  if (armed != 0) fail_for_good(uv_failure(armed, "uv_timer_start(connect timeout)").message);
}

void RedisConnection::abandon_connect() {
  redisAsyncContext *context = std::exchange(context_, nullptr);
  std::string why = context->err ? context->errstr : "no answer within " + std::to_string(kConnectTimeoutMs) + " ms";
  // Frees the context: its pending batches come back with no reply and are requeued in order; no
  // disconnect callback runs for a context that never connected.
  redisAsyncFree(context);
  state_ = State::kDisconnected;
  if (!said_down_ && events_.on_down) events_.on_down(why);
  said_down_ = true;
  schedule_reconnect();
}

void RedisConnection::schedule_reconnect() {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  int armed = uv_timer_start(
      reconnect_timer_,
      [](uv_timer_t *timer) {
        auto *self = static_cast<RedisConnection *>(timer->data);
        if (self != nullptr && self->state_ == State::kDisconnected) self->connect();
      },
      backoff_ms_, 0);
  if (armed != 0) {
    fail_for_good(uv_failure(armed, "uv_timer_start(reconnect)").message);
    return;
  }
  backoff_ms_ = std::min<uint64_t>(backoff_ms_ * 2, 5000);
}

void RedisConnection::handle_connect(const redisAsyncContext *context, int status) {
  auto *self = static_cast<RedisConnection *>(context->data);
  if (self == nullptr) return;
  uv_timer_stop(self->connect_timer_);
  if (status != REDIS_OK) {
    // hiredis frees the context after this callback; the failed batches have been requeued by then.
    std::string why = context->errstr;
    self->context_ = nullptr;
    self->state_ = State::kDisconnected;
    if (!self->said_down_ && self->events_.on_down) self->events_.on_down(why);
    self->said_down_ = true;
    self->schedule_reconnect();
    return;
  }
  self->state_ = State::kSettingUp;
}

void RedisConnection::on_setup_reply(const std::string &what, bool last, const redisReply *reply) {
  if (reply == nullptr || context_ == nullptr) return;  // the connection dropped: handle_disconnect says so
  if (reply->type == REDIS_REPLY_ERROR) {
    // A wrong password, or a user without the command: nothing sent after it can work. Dropping the
    // connection requeues the batches, says why once, and retries with backoff (the ACL may be fixed).
    if (!setup_refusal_.empty()) return;
    setup_refusal_ = "it refused " + what + ": " + reply_string(reply);
    redisAsyncFree(context_);  // inside a callback hiredis frees it once the callback returns
    return;
  }
  if (!last || state_ != State::kSettingUp) return;
  state_ = State::kReady;
  backoff_ms_ = 100;
  said_down_ = false;
  if (events_.on_ready) events_.on_ready();
}

void RedisConnection::handle_disconnect(const redisAsyncContext *context, int status) {
  auto *self = static_cast<RedisConnection *>(context->data);
  if (self == nullptr) return;
  self->context_ = nullptr;
  if (self->state_ == State::kClosing) {
    self->state_ = State::kClosed;
    if (self->on_closed_) self->on_closed_();
    return;
  }
  std::string why = !self->setup_refusal_.empty() ? self->setup_refusal_
                    : status == REDIS_OK             ? "connection closed"
                                                     : context->errstr;
  self->state_ = State::kDisconnected;
  if (!self->said_down_ && self->events_.on_down) self->events_.on_down(why);
  self->said_down_ = true;
  self->schedule_reconnect();
}

void RedisConnection::send(Command command, ReplyCallback callback, bool retry) {
  std::vector<Command> commands;
  commands.push_back(std::move(command));
  send_batch(std::move(commands), std::move(callback), retry);
}

void RedisConnection::send_batch(std::vector<Command> commands, ReplyCallback callback, bool retry) {
  auto batch = std::make_unique<Batch>();
  batch->commands = std::move(commands);
  batch->callback = std::move(callback);
  batch->retry = retry;
  if (context_ == nullptr || state_ == State::kClosing || state_ == State::kClosed) {
    if (!retry) {
      if (batch->callback) batch->callback(nullptr);
      return;
    }
    unsent_.push_back(std::move(batch));
    return;
  }
  transmit(std::move(batch));
}

void RedisConnection::transmit(std::unique_ptr<Batch> batch) {
  Batch *raw = batch.release();  // owned by the pending replies until finish_batch
  ++in_flight_;
  for (const Command &command : raw->commands) {
    std::vector<const char *> argv;
    std::vector<size_t> lengths;
    for (const std::string &part : command) {
      argv.push_back(part.data());
      lengths.push_back(part.size());
    }
    if (redisAsyncCommandArgv(context_, handle_reply, raw, static_cast<int>(argv.size()), argv.data(),
                              lengths.data()) != REDIS_OK) {
      on_reply(raw, nullptr);  // refused (the context is going down): counts as a lost reply
    }
  }
}

void RedisConnection::flush_unsent() {
  std::deque<std::unique_ptr<Batch>> waiting;
  waiting.swap(unsent_);
  for (auto &batch : waiting) transmit(std::move(batch));
}

void RedisConnection::handle_reply(redisAsyncContext *context, void *reply, void *privdata) {
  auto *self = static_cast<RedisConnection *>(context->data);
  auto *batch = static_cast<Batch *>(privdata);
  if (self == nullptr) {
    // The connection object is being destroyed: the batch dies with it.
    if (++batch->replies == batch->commands.size()) delete batch;
    return;
  }
  self->on_reply(batch, static_cast<const redisReply *>(reply));
}

void RedisConnection::on_reply(Batch *batch, const redisReply *reply) {
  ++batch->replies;
  if (reply == nullptr) batch->failed = true;
  if (batch->replies == batch->commands.size()) finish_batch(batch, reply);
}

void RedisConnection::finish_batch(Batch *batch, const redisReply *last_reply) {
  --in_flight_;
  std::unique_ptr<Batch> owned(batch);
  if (owned->failed && owned->retry && state_ != State::kClosed) {
    // Sent again whole once connected: a transaction cut in the middle was discarded by Redis.
    owned->replies = 0;
    owned->failed = false;
    unsent_.push_back(std::move(owned));
    return;
  }
  if (owned->callback) owned->callback(owned->failed ? nullptr : last_reply);
}

void RedisConnection::close(std::function<void()> on_closed) {
  on_closed_ = std::move(on_closed);
  if (reconnect_timer_ != nullptr) uv_timer_stop(reconnect_timer_);
  if (connect_timer_ != nullptr) uv_timer_stop(connect_timer_);
  if (context_ == nullptr) {
    state_ = State::kClosed;
    if (on_closed_) on_closed_();
    return;
  }
  state_ = State::kClosing;
  redisAsyncDisconnect(context_);  // waits for the replies in flight
}

std::string reply_string(const redisReply *reply) {
  if (reply == nullptr) return "no reply (connection lost)";
  if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS || reply->type == REDIS_REPLY_ERROR)
    return std::string(reply->str, reply->len);
  if (reply->type == REDIS_REPLY_INTEGER) return std::to_string(reply->integer);
  return {};
}

bool reply_is_error(const redisReply *reply) { return reply == nullptr || reply->type == REDIS_REPLY_ERROR; }

}  // namespace hutch
