// Sends log lines to Redis in batches: lines collect for at most kFlushIntervalMs (or until a batch is big),
// then go out as pipelined XADDs in one write. Never one round trip per line, and well within the 50 ms
// the protocol promises between a line being written and being in hutch:logs:<id>.
#pragma once

#include <uv.h>

#include <string>
#include <vector>

#include "queue/log_lines.h"
#include "queue/redis_connection.h"
#include "supervisor/uv_handles.h"

namespace hutch {

class LogShipper {
 public:
  static constexpr uint64_t kFlushIntervalMs = 10;
  static constexpr size_t kMaxBatchLines = 512;

  LogShipper(uv_loop_t *loop, RedisConnection &writer) : writer_(writer), timer_(loop) {}
  void append(const std::string &execution_id, std::vector<LogLine> &&lines);
  // Sends everything pending now (before a final record, so the eof entry comes last).
  void flush();

 private:
  RedisConnection &writer_;
  UvTimer timer_;
  bool timer_armed_ = false;
  std::vector<Command> pending_;
};

}  // namespace hutch
