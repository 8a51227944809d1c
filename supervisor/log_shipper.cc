#include "supervisor/log_shipper.h"

#include "queue/keys.h"
#include "supervisor/log.h"

namespace hutch {

void LogShipper::append(const std::string &execution_id, std::vector<LogLine> &&lines) {
  if (lines.empty()) return;
  std::string key = keys::execution_logs(execution_id);
  for (LogLine &line : lines) {
    pending_.push_back({"XADD", key, "*", std::string(keys::log::kFd),
                        std::string(line.is_stderr ? keys::log::kStderr : keys::log::kStdout),
                        std::string(keys::log::kLine), std::move(line.text)});
  }
  if (pending_.size() >= kMaxBatchLines) {
    flush();
    return;
  }
  if (!timer_armed_) {
    timer_armed_ = true;
    timer_.start(kFlushIntervalMs, [this] { flush(); });
  }
}

void LogShipper::flush() {
  timer_.stop();
  timer_armed_ = false;
  if (pending_.empty()) return;
  std::vector<Command> batch;
  batch.swap(pending_);
  writer_.send_batch(std::move(batch), [](const redisReply *reply) {
    if (reply_is_error(reply)) log_warning("writing log lines to Redis failed: " + reply_string(reply));
  });
}

}  // namespace hutch
