// What the fault tests share: a ledger of the final status words published on hutch:events (a SUBSCRIBE in
// a thread of its own that reconnects when Redis restarts), the "exactly one final record" check, pipelined
// enqueueing, and what a hutchd holds on the host (RSS, fds, cgroup directories, processes in them).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/hutch_test.h"
#include "tests/support/redis_client.h"

namespace hutch::test {

// Counts, per execution id, the final status words published on hutch:events from construction until
// stop() (or destruction). Messages published while its connection is down (Redis restarting) are missed:
// the Redis restart test says so when it reads the counts.
class FinalEventLedger {
 public:
  explicit FinalEventLedger(const std::string &redis_url);
  ~FinalEventLedger();
  FinalEventLedger(const FinalEventLedger &) = delete;
  FinalEventLedger &operator=(const FinalEventLedger &) = delete;

  void stop();
  // A barrier instead of a sleep: publishes a marker on hutch:events (through `redis`) and waits, up to
  // `timeout`, until this ledger has received it. Redis delivers a channel's messages in the order they were
  // published, and hutchd publishes a final status in the same script as the record, so once it returns
  // true every final status of a record the test has seen is counted. Publishes again while it waits, in
  // case the subscriber was reconnecting.
  bool sync(RedisClient &redis, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // id -> every final word seen for it, in order.
  std::map<std::string, std::vector<std::string>> finals() const;
  int reconnects() const { return reconnects_.load(); }

 private:
  void run();

  std::string url_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> reconnects_{0};
  std::atomic<long> markers_sent_{0};
  std::atomic<long> marker_seen_{0};  // the number of the last marker received
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<std::string>> finals_;
  std::thread thread_;
};

// `count` XADDs of `fields` in pipelined batches; returns the ids in order (fails the test on an error).
std::vector<std::string> enqueue_pipelined(RedisClient &redis, const JobFields &fields, size_t count);

// The record's `field` for every id, pipelined ("" where there is none).
std::vector<std::string> record_field_of(RedisClient &redis, const std::vector<std::string> &ids,
                                         const std::string &field);

// Polls (every 250 ms, at most `timeout`, oldest ids first) until every id has a final status; returns how
// many have one.
size_t wait_until_all_final(RedisClient &redis, const std::vector<std::string> &ids, std::chrono::milliseconds timeout);

// Per id, how many entries of hutch:logs:<id> carry the `eof` field (pipelined).
std::vector<int> eof_counts(RedisClient &redis, const std::vector<std::string> &ids);

// The whole "exactly one final record" check: every id has a final status, exactly one `eof` entry in its
// log stream, and the ledger saw exactly one final word for it (`events_may_miss`: at most one, for a test
// during which Redis restarted and published messages could not reach the subscriber). Syncs the ledger
// first (FinalEventLedger::sync). Prints the counts (std::cout, in the ctest log) and adds a test failure
// per broken rule with the first ids that break it.
void expect_exactly_one_final_record(RedisClient &redis, FinalEventLedger &ledger,
                                     const std::vector<std::string> &ids, bool events_may_miss = false);

// What a hutchd holds on this host.
struct HostFootprint {
  long rss_kib = -1;         // VmRSS from /proc/PID/status
  long open_fds = -1;        // entries of /proc/PID/fd
  long cgroup_dirs = 0;      // directories in (and including) every hutch-<consumer> subtree
};
HostFootprint footprint_of(pid_t pid, const std::string &consumer);
std::ostream &operator<<(std::ostream &out, const HostFootprint &footprint);

// Every directory of the hutch-<sanitized consumer> subtrees in every mounted cgroup hierarchy (v1 and v2).
std::vector<std::string> cgroup_directories_of(const std::string &consumer);
// The pids listed in cgroup.procs of those directories.
std::vector<pid_t> processes_in_cgroups_of(const std::string &consumer);
// Live (non-zombie) processes whose parent is `parent`.
std::vector<pid_t> children_of(pid_t parent);
// Live (non-zombie) processes among `pids`.
std::vector<pid_t> still_living(const std::vector<pid_t> &pids);

// The lease the fault tests give hutchd: a dead supervisor's jobs are taken over within seconds.
inline constexpr const char *kTestLeaseSeconds = "2";

// A HutchTest that runs more supervisors beside (or instead of) the fixture's own. Each is stopped at the
// end with SIGTERM and must exit 0, like the fixture's; their logs are printed when the test failed.
class FaultTest : public HutchTest {
 protected:
  void TearDown() override;

  // The fixture's options with this consumer name, concurrency and --lease kTestLeaseSeconds.
  HutchdOptions supervisor_options(const std::string &consumer, int concurrency);
  // Starts one more supervisor; nullptr (and a test failure) when it does not get ready.
  HutchdProcess *start_supervisor(HutchdOptions options);
  // SIGTERM, then expects exit code 0 within the grace plus 15 s.
  void expect_clean_stop(HutchdProcess &supervisor);

  std::vector<std::unique_ptr<HutchdProcess>> supervisors_;
};

}  // namespace hutch::test
