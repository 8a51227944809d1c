#include "queue/job_stream.h"

#include <algorithm>
#include <chrono>

#include "queue/delivery_scripts.h"
#include "queue/keys.h"
#include "queue/reply_limits.h"

namespace hutch {
namespace {

constexpr int64_t kMaxBlockMilliseconds = 2000;

int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

JobStream::JobStream(RedisConnection &reader, RedisConnection &writer, std::string consumer, int64_t lease_ms,
                     int64_t claim_interval_ms)
    : reader_(reader),
      writer_(writer),
      consumer_(std::move(consumer)),
      lease_ms_(lease_ms),
      claim_interval_ms_(claim_interval_ms) {
  // Entries come from whoever may XADD: their oversized values and surplus fields are read as sizes.
  reader_.limit_replies(&kJobEntryReplyLimits);
}

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
  // Never more entries than the reply limits keep in one array (a larger concurrency reads in rounds).
  size_t free = std::min(handlers_.free_slots(), kMaxEntriesPerRead);
  if (free == 0) return;
  if (!said_reading_) {
    said_reading_ = true;
    if (handlers_.on_reading) handlers_.on_reading();
  }
  read_in_flight_ = true;
  if (!reclaim_done_) {
    reclaim_own(free);
    return;
  }
  int64_t now = steady_ms();
  if (now >= next_claim_ms_) {
    next_claim_ms_ = now + claim_interval_ms_;  // not allowed yet: asked again at the next interval
    if (!handlers_.may_claim || handlers_.may_claim()) {
      claim(free);
      return;
    }
  }
  // Never blocks past the next claim, so claims keep their interval while the queue is idle.
  int64_t block_ms = std::clamp<int64_t>(next_claim_ms_ - now, 1, kMaxBlockMilliseconds);
  reader_.send({"XREADGROUP", "GROUP", std::string(keys::kConsumerGroup), consumer_, "COUNT", std::to_string(free),
                "BLOCK", std::to_string(block_ms), "STREAMS", std::string(keys::kJobsStream), ">"},
               [this](const redisReply *reply) { handle_read(reply); }, false);
}

void JobStream::reclaim_own(size_t count) {
  reader_.send(reclaim_own_command(consumer_, reclaim_cursor_, count),
               [this](const redisReply *reply) { handle_claim(reply, true); }, false);
}

void JobStream::claim(size_t count) {
  reader_.send(claim_command(consumer_, lease_ms_, count),
               [this](const redisReply *reply) { handle_claim(reply, false); }, false);
}

// True when the reply ends this round (lost connection or an error that was handled).
bool JobStream::handle_error(const redisReply *reply, const char *what) {
  read_in_flight_ = false;
  if (reply == nullptr) {  // connection lost: on_reader_ready starts over, unless we are stopping
    if (stopping_ && on_stopped_) std::exchange(on_stopped_, nullptr)();
    return true;
  }
  if (!reply_is_error(reply)) return false;
  std::string error = reply_string(reply);
  if (error.find("NOGROUP") != std::string::npos) {
    create_group();  // the stream or group was deleted under us
    return true;
  }
  if (handlers_.on_error) handlers_.on_error(std::string(what) + " failed: " + error);
  return false;
}

void JobStream::handle_claim(const redisReply *reply, bool reclaiming) {
  if (handle_error(reply, reclaiming ? "reclaiming this consumer's pending entries" : "claiming idle entries")) return;
  auto batch = parse_claim_reply(reply);
  if (!batch) {
    if (reclaiming) reclaim_done_ = true;  // a script that cannot work must not stop the reads behind it
  } else {
    if (reclaiming) {
      if (batch->cursor.empty()) reclaim_done_ = true;
      else reclaim_cursor_ = batch->cursor;
    }
    for (ClaimedEntry &entry : batch->entries) handlers_.on_entry(entry.id, entry.attempt, std::move(entry.fields));
  }
  read_next();
}

void JobStream::handle_read(const redisReply *reply) {
  if (handle_error(reply, "XREADGROUP")) return;
  if (reply->type == REDIS_REPLY_ARRAY) {
    for (size_t s = 0; s < reply->elements; ++s) {
      const redisReply *stream = reply->element[s];
      if (stream->type != REDIS_REPLY_ARRAY || stream->elements < 2) continue;
      const redisReply *entries = stream->element[1];
      for (size_t e = 0; e < entries->elements; ++e) {
        const redisReply *entry = entries->element[e];
        if (entry->type != REDIS_REPLY_ARRAY || entry->elements < 2) continue;
        handlers_.on_entry(reply_string(entry->element[0]), 1, stream_fields_of(entry->element[1]));
      }
    }
  }
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
