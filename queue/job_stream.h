// Reads jobs from the stream hutch:jobs as a member of the consumer group hutchd.
//
// Everything that hands this supervisor entries runs here, one request at a time on the reader connection,
// and asks for no more entries than there are free slots, so it never holds an entry it cannot start and
// jobs it cannot start yet stay in the stream for other supervisors:
//   1. once, at start: entries still pending for this consumer name (a dead earlier run) are reclaimed;
//   2. then, every claim interval, entries idle longer than the lease are claimed from dead supervisors
//      (queue/delivery_scripts.h), when the owner allows it;
//   3. in between, fresh entries (XREADGROUP ... >, attempt 1), blocking at most one claim interval. The blocking XREADGROUP runs on its own connection; stop()
// unblocks it with CLIENT UNBLOCK from the write connection, so a shutdown does not wait for the BLOCK
// timeout, and whatever that last read still delivered is handed out (it was read before the stop).
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <utility>
#include <string>

#include "queue/job.h"
#include "queue/redis_connection.h"

namespace hutch {

class JobStream {
 public:
  struct Handlers {
    std::function<size_t()> free_slots;
    // `attempt`: the entry's delivery count (1 for a fresh read).
    std::function<void(const std::string &id, int attempt, StreamFields fields)> on_entry;
    // Whether claiming from other supervisors may run now (e.g. not right after a Redis reconnect).
    std::function<bool()> may_claim;
    std::function<void()> on_reading;                          // once the group exists and reads began
    std::function<void(const std::string &sentence)> on_error;  // unexpected replies; reads go on
  };

  JobStream(RedisConnection &reader, RedisConnection &writer, std::string consumer, int64_t lease_ms,
            int64_t claim_interval_ms);

  // Call from the reader connection's on_ready (every time it connects).
  void on_reader_ready();
  void set_handlers(Handlers handlers) { handlers_ = std::move(handlers); }
  // A slot was freed: read more if no read is in flight.
  void poke();
  void stop(std::function<void()> done);

 private:
  void create_group();
  void read_next();
  void reclaim_own(size_t count);
  void claim(size_t count);
  void handle_read(const redisReply *reply);
  void handle_claim(const redisReply *reply, bool reclaiming);
  bool handle_error(const redisReply *reply, const char *what);

  RedisConnection &reader_;
  RedisConnection &writer_;
  std::string consumer_;
  int64_t lease_ms_;
  int64_t claim_interval_ms_;
  Handlers handlers_;
  bool group_ready_ = false;
  bool read_in_flight_ = false;
  bool reclaim_done_ = false;  // entries pending for this consumer name before (a restart) come first
  std::string reclaim_cursor_ = "-";
  int64_t next_claim_ms_ = 0;
  bool said_reading_ = false;
  bool stopping_ = false;
  long long reader_client_id_ = -1;
  std::function<void()> on_stopped_;
};

}  // namespace hutch
