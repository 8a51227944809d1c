#include "queue/job_stream.h"

#include "queue/keys.h"

namespace hutch {
namespace {

constexpr const char *kBlockMilliseconds = "2000";

StreamFields entry_fields(const redisReply *fields) {
  StreamFields out;
  if (fields == nullptr || fields->type != REDIS_REPLY_ARRAY) return out;
  for (size_t i = 0; i + 1 < fields->elements; i += 2)
    out.emplace_back(reply_string(fields->element[i]), reply_string(fields->element[i + 1]));
  return out;
}

}  // namespace

JobStream::JobStream(RedisConnection &reader, RedisConnection &writer, std::string consumer)
    : reader_(reader), writer_(writer), consumer_(std::move(consumer)) {}

void JobStream::on_reader_ready() {
  group_ready_ = false;
  read_in_flight_ = false;
  reader_.send({"CLIENT", "ID"}, [this](const redisReply *reply) {
    if (reply != nullptr && reply->type == REDIS_REPLY_INTEGER) reader_client_id_ = reply->integer;
  }, false);
  create_group();
}

void JobStream::create_group() {
  // MKSTREAM at id 0: jobs enqueued before any supervisor existed are run. A Redis that restarted empty
  // lost the group: this recreates it on every (re)connect.
  reader_.send({"XGROUP", "CREATE", std::string(keys::kJobsStream), std::string(keys::kConsumerGroup), "0", "MKSTREAM"},
               [this](const redisReply *reply) {
                 if (reply == nullptr) return;  // disconnected: on_reader_ready runs again
                 if (reply_is_error(reply) && reply_string(reply).rfind("BUSYGROUP", 0) != 0) {
                   if (handlers_.on_error) handlers_.on_error("XGROUP CREATE failed: " + reply_string(reply));
                   return;
                 }
                 group_ready_ = true;
                 read_next();
               },
               false);
}

void JobStream::poke() { read_next(); }

void JobStream::read_next() {
  if (!group_ready_ || read_in_flight_ || !reader_.is_ready()) return;
  if (stopping_) {
    if (on_stopped_) std::exchange(on_stopped_, nullptr)();
    return;
  }
  size_t free = handlers_.free_slots();
  if (free == 0) return;
  bool history = !history_done_;
  Command command = {"XREADGROUP", "GROUP", std::string(keys::kConsumerGroup), consumer_, "COUNT", std::to_string(free)};
  if (!history) {
    command.insert(command.end(), {"BLOCK", kBlockMilliseconds});
  }
  command.insert(command.end(), {"STREAMS", std::string(keys::kJobsStream), history ? history_cursor_ : ">"});
  read_in_flight_ = true;
  reader_.send(std::move(command), [this, history](const redisReply *reply) { handle_read(reply, history); }, false);
  if (!said_reading_) {
    said_reading_ = true;
    if (handlers_.on_reading) handlers_.on_reading();
  }
}

void JobStream::handle_read(const redisReply *reply, bool reading_history) {
  read_in_flight_ = false;
  if (reply == nullptr) {  // connection lost: on_reader_ready starts over, unless we are stopping
    if (stopping_ && on_stopped_) std::exchange(on_stopped_, nullptr)();
    return;
  }
  if (reply_is_error(reply)) {
    std::string error = reply_string(reply);
    if (error.rfind("NOGROUP", 0) == 0) {
      create_group();  // the stream or group was deleted under us
      return;
    }
    if (handlers_.on_error) handlers_.on_error("XREADGROUP failed: " + error);
  }
  size_t delivered = 0;
  if (reply->type == REDIS_REPLY_ARRAY) {
    for (size_t s = 0; s < reply->elements; ++s) {
      const redisReply *stream = reply->element[s];
      if (stream->type != REDIS_REPLY_ARRAY || stream->elements < 2) continue;
      const redisReply *entries = stream->element[1];
      for (size_t e = 0; e < entries->elements; ++e) {
        const redisReply *entry = entries->element[e];
        if (entry->type != REDIS_REPLY_ARRAY || entry->elements < 2) continue;
        std::string id = reply_string(entry->element[0]);
        if (reading_history) history_cursor_ = id;
        ++delivered;
        handlers_.on_entry(id, entry_fields(entry->element[1]));
      }
    }
  }
  if (reading_history && delivered == 0) history_done_ = true;
  read_next();
}

void JobStream::stop(std::function<void()> done) {
  stopping_ = true;
  on_stopped_ = std::move(done);
  if (!read_in_flight_) {
    if (on_stopped_) std::exchange(on_stopped_, nullptr)();
    return;
  }
  if (reader_client_id_ >= 0) writer_.send({"CLIENT", "UNBLOCK", std::to_string(reader_client_id_)}, {}, false);
}

}  // namespace hutch
