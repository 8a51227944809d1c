#include "supervisor/log_shipper.h"

#include <utility>

#include "queue/keys.h"
#include "queue/outcome.h"
#include "supervisor/log.h"

namespace hutch {

void LogShipper::add(const std::string &key, bool is_stderr, std::string text) {
  uint64_t bytes = key.size() + text.size() + 16;
  held_bytes_ += bytes;
  pending_bytes_ += bytes;
  pending_.push_back({"XADD", key, "*", std::string(keys::log::kFd),
                      std::string(is_stderr ? keys::log::kStderr : keys::log::kStdout), std::string(keys::log::kLine),
                      std::move(text)});
}

void LogShipper::append(const std::string &execution_id, std::vector<LogLine> &&lines) {
  if (lines.empty()) return;
  std::string key = keys::execution_logs(execution_id);
  for (LogLine &line : lines) {
    if (held_bytes_ + line.text.size() > buffer_cap_bytes_) {
      ++dropped_[execution_id];
      if (!warned_) {
        warned_ = true;
        log_warning("log lines waiting for Redis fill the " + describe_bytes(buffer_cap_bytes_) +
                    " --buffer-cap: further lines are dropped (counted, and said in each job's log and record) "
                    "until Redis takes the ones held");
      }
      continue;
    }
    add(key, line.is_stderr, std::move(line.text));
  }
  if (pending_.size() >= kMaxBatchLines) {
    flush();
    return;
  }
  if (!timer_armed_ && !pending_.empty()) {
    if (auto armed = timer_.start(kFlushIntervalMs, [this] { flush(); }); !armed) {
      // Unbatched is slower but loses nothing: these lines go now, and so will the next ones.
      log_warning("log lines: cannot arm the batching timer (" + armed.error().message + "); sending at once");
      flush();
      return;
    }
    timer_armed_ = true;
  }
}

void LogShipper::append_notice(const std::string &execution_id, std::string line) {
  add(keys::execution_logs(execution_id), true, std::move(line));
}

void LogShipper::flush() {
  timer_.stop();
  timer_armed_ = false;
  if (pending_.empty()) return;
  std::vector<Command> batch;
  batch.swap(pending_);
  uint64_t bytes = std::exchange(pending_bytes_, 0);
  writer_.send_batch(std::move(batch), [this, bytes](const redisReply *reply) {
    held_bytes_ -= bytes;
    if (held_bytes_ == 0) warned_ = false;  // Redis took everything: a later outage warns again
    if (reply_is_error(reply)) log_warning("writing log lines to Redis failed: " + reply_string(reply));
  });
}

uint64_t LogShipper::take_dropped(const std::string &execution_id) {
  auto found = dropped_.find(execution_id);
  if (found == dropped_.end()) return 0;
  uint64_t dropped = found->second;
  dropped_.erase(found);
  return dropped;
}

std::string LogShipper::dropped_line(uint64_t dropped) const {
  return "[hutch] " + std::to_string(dropped) + " log line" + (dropped == 1 ? " was" : "s were") +
         " dropped: Redis was unreachable and the " + describe_bytes(buffer_cap_bytes_) +
         " of log lines hutchd may hold for it (--buffer-cap) were full";
}

}  // namespace hutch
