// Keeps this supervisor's claim on the jobs it runs, and the queue tidy (docs/protocol.md, "Delivery" and
// "Retention"):
//   - heartbeat: every lease/3, and at once when the writer connection (re)connects, one script resets the
//     idle time of every entry this supervisor still owns; the ones it no longer owns are reported lost
//     (another supervisor claimed them after a missed lease) and their executions must die;
//   - claims wait until the writer has been up for one heartbeat interval, so after a Redis restart the
//     live owners get to heartbeat before anyone takes their entries;
//   - maintenance: at the first connection and every 60 s, acknowledged entries are trimmed from
//     hutch:jobs and hutch:execs is pruned of ids older than the retention.
#pragma once

#include <uv.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "queue/redis_connection.h"
#include "supervisor/config.h"
#include "supervisor/uv_handles.h"

namespace hutch {

class LeaseKeeper {
 public:
  static constexpr uint64_t kMaintenanceIntervalMs = 60000;

  struct Handlers {
    std::function<std::vector<std::pair<std::string, int>>()> running;  // (id, attempt) of every owned job
    std::function<void(const std::string &id)> on_lost;
  };

  LeaseKeeper(uv_loop_t *loop, RedisConnection &writer, const SupervisorConfig &config, Handlers handlers);

  static int64_t heartbeat_interval_ms(int64_t lease_ms) { return std::max<int64_t>(lease_ms / 3, 1); }
  static int64_t claim_interval_ms(int64_t lease_ms) { return std::max<int64_t>(lease_ms / 3, 200); }

  // Fails when a timer cannot be armed: without heartbeats every job would be taken over after a lease.
  Status start();
  void stop();  // before the loop may end: the timers would keep it running
  void on_writer_ready();
  bool may_claim() const;

 private:
  void heartbeat();
  void maintain();

  uv_loop_t *loop_;
  RedisConnection &writer_;
  const SupervisorConfig &config_;
  Handlers handlers_;
  UvTimer heartbeat_timer_;
  UvTimer maintenance_timer_;
  uint64_t writer_ready_at_ms_ = 0;  // uv_now when the writer last connected; 0: not connected yet
  bool heartbeat_in_flight_ = false;
  bool maintained_ = false;
};

}  // namespace hutch
