// Delivery and fencing: every Redis step that decides who owns a job, as one Lua script per purpose
// (docs/protocol.md, "Delivery"). The consumer group's pending entry list (PEL) is the lease: an entry
// belongs to the consumer XPENDING names, and its delivery count is the attempt number. A supervisor may
// write for a job only while the PEL still says "mine, with this attempt"; each script checks that and
// acts in the same atomic step, so a supervisor that wakes up late cannot overwrite a newer attempt.
//
// Builders return the EVAL command; parsers turn the script's reply into values. Pure logic plus hiredis'
// reply type: no connection, no loop.
#pragma once

#include <hiredis/hiredis.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "queue/job.h"
#include "queue/record.h"

namespace hutch {

// Who writes for a job: this supervisor's consumer name and the attempt it runs.
struct Fence {
  std::string consumer;
  int attempt = 1;
};

// An entry this supervisor now owns, with its delivery count as the attempt number.
struct ClaimedEntry {
  std::string id;
  int attempt = 1;
  StreamFields fields;
};

struct ClaimBatch {
  std::string cursor;  // reclaim: the last pending id looked at ("" when there were none); claim: unused
  std::vector<ClaimedEntry> entries;
};

// XAUTOCLAIM of up to `count` entries idle longer than `lease_ms`, each with its delivery count.
Command claim_command(const std::string &consumer, int64_t lease_ms, size_t count);
// Start-up: up to `count` entries still pending for this consumer name after `after` ("-" first, then the
// cursor of the previous batch), XCLAIMed to it again so that their delivery count goes up.
Command reclaim_own_command(const std::string &consumer, const std::string &after, size_t count);
Result<ClaimBatch> parse_claim_reply(const redisReply *reply);

// What a fenced write did.
enum class WriteOutcome {
  kWritten,  // the commands ran
  kDone,     // the record was already final with this attempt and worker: our own write, resent
  kFinal,    // the record was already final from another attempt: nothing written (acknowledged if ours)
  kStale,    // the PEL names another consumer or a later attempt: nothing written
};
Result<WriteOutcome> parse_write_reply(const redisReply *reply);
std::string_view describe_write_outcome(WriteOutcome outcome);

// `running`: the commands run only while the record is not final and the PEL says the job is ours.
Command running_write_command(const std::string &id, const Fence &fence, const std::vector<Command> &commands);
// The final record with everything that lands with it (docs/protocol.md, "Delivery", the four cases).
// `counted_function`: a user function whose count in hutch:fn-executions goes up if it still exists ("" for
// none); a counter hash that is no longer a hash of counts is left as it is, and the record written all the
// same.
Command final_write_command(const std::string &id, const Fence &fence, const std::string &counted_function,
                            const std::vector<Command> &commands);

// One heartbeat for every running execution: resets each owned entry's idle time without counting a
// delivery; replies with the ids that are no longer ours.
Command heartbeat_command(const std::string &consumer, const std::vector<std::pair<std::string, int>> &running);
Result<std::vector<std::string>> parse_heartbeat_reply(const redisReply *reply);

// Shutdown: the log line, and the entry marked idle for `lease_ms` so another supervisor claims it at once.
Command hand_back_command(const std::string &id, const Fence &fence, int64_t lease_ms, const std::string &log_line);

// XTRIM of acknowledged entries (below the oldest pending one), and hutch:execs pruned of ids enqueued
// before `execs_cutoff_ms` (none: kept).
Command maintenance_command(std::optional<int64_t> execs_cutoff_ms);

// The flattened command list the fenced scripts run: count, then per command its argc and its arguments.
std::vector<std::string> flatten_commands(const std::vector<Command> &commands);

}  // namespace hutch
