// Reads jobs from the stream hutch:jobs as a member of the consumer group hutchd.
//
// Reads only as many entries as there are free slots (COUNT), so jobs this supervisor cannot start yet
// stay in the stream for other supervisors. The blocking XREADGROUP runs on its own connection; stop()
// unblocks it with CLIENT UNBLOCK from the write connection, so a shutdown does not wait for the BLOCK
// timeout, and whatever that last read still delivered is handed out (it was read before the stop).
#pragma once

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
    std::function<void(const std::string &id, StreamFields fields)> on_entry;
    std::function<void()> on_reading;                          // once the group exists and reads began
    std::function<void(const std::string &sentence)> on_error;  // unexpected replies; reads go on
  };

  JobStream(RedisConnection &reader, RedisConnection &writer, std::string consumer);

  // Call from the reader connection's on_ready (every time it connects).
  void on_reader_ready();
  void set_handlers(Handlers handlers) { handlers_ = std::move(handlers); }
  // A slot was freed: read more if no read is in flight.
  void poke();
  void stop(std::function<void()> done);

 private:
  void create_group();
  void read_next();
  void handle_read(const redisReply *reply, bool reading_history);

  RedisConnection &reader_;
  RedisConnection &writer_;
  std::string consumer_;
  Handlers handlers_;
  bool group_ready_ = false;
  bool read_in_flight_ = false;
  bool history_done_ = false;  // entries delivered to this consumer name before (a restart) come first
  std::string history_cursor_ = "0";
  bool said_reading_ = false;
  bool stopping_ = false;
  long long reader_client_id_ = -1;
  std::function<void()> on_stopped_;
};

}  // namespace hutch
