// Sends log lines to Redis in batches: lines collect for at most kFlushIntervalMs (or until a batch is big),
// then go out as pipelined XADDs in one write. Never one round trip per line, and well within the 50 ms
// the protocol promises between a line being written and being in hutch:logs:<id>.
//
// While Redis is unreachable the batches wait in memory (queue/redis_connection.h). They are the one write
// that grows with what jobs print, so they are bounded: past `buffer_cap_bytes` held (sent and not yet
// answered, or not sent) a line is dropped and counted for its execution, whose record then says
// logs_truncated with a line saying how many were lost. One warning per outage.
#pragma once

#include <uv.h>

#include <map>
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

  LogShipper(uv_loop_t *loop, RedisConnection &writer, uint64_t buffer_cap_bytes)
      : writer_(writer), timer_(loop), buffer_cap_bytes_(buffer_cap_bytes) {}
  void append(const std::string &execution_id, std::vector<LogLine> &&lines);
  // One `[hutch]` line on stderr from hutchd itself: never dropped (one per execution at most).
  void append_notice(const std::string &execution_id, std::string line);
  // Sends everything pending now (before a final record, so the eof entry comes last).
  void flush();
  // How many of the execution's lines were dropped at the buffer cap; forgets the count.
  uint64_t take_dropped(const std::string &execution_id);
  // The line a record with dropped lines gets in its log.
  std::string dropped_line(uint64_t dropped) const;

 private:
  void add(const std::string &key, bool is_stderr, std::string text);

  RedisConnection &writer_;
  UvTimer timer_;
  uint64_t buffer_cap_bytes_;
  uint64_t held_bytes_ = 0;     // pending here plus handed to the connection and not yet answered
  uint64_t pending_bytes_ = 0;  // in pending_
  bool warned_ = false;         // this outage's warning was given
  bool timer_armed_ = false;
  std::vector<Command> pending_;
  std::map<std::string, uint64_t> dropped_;
};

}  // namespace hutch
