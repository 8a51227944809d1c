#include "queue/delivery_scripts.h"

#include "queue/function_definition.h"
#include "queue/keys.h"
#include "queue/redis_connection.h"

namespace hutch {
namespace {

// Shared by every script. KEYS[1] is hutch:jobs, ARGV[1] the group. An entry gone from the stream as well
// as from the PEL means Redis lost its state (it restarted without it): no other supervisor can ever run
// that job, so its owner keeps it and may write (otherwise a Redis restart would lose every running job).
constexpr const char *kPrelude = R"lua(
local stream, group = KEYS[1], ARGV[1]
local function pending_entry(id)
  local p = redis.pcall('XPENDING', stream, group, id, id, 1)
  if type(p) ~= 'table' or p.err or #p == 0 then return nil end
  return p[1]
end
local function owns(id, consumer, attempt)
  local e = pending_entry(id)
  if e == nil then return #redis.call('XRANGE', stream, id, id) == 0, nil end
  return e[2] == consumer and tonumber(e[4]) == tonumber(attempt), e
end
local function run_commands(from)
  local i = from + 1
  for _ = 1, tonumber(ARGV[from]) do
    local argc = tonumber(ARGV[i])
    redis.call(unpack(ARGV, i + 1, i + argc))
    i = i + argc + 1
  end
end
)lua";

// ARGV: group, consumer, lease_ms, count. XAUTOCLAIM scans at most 10 x COUNT entries per call, so it
// goes on from its cursor (bounded) until it has enough or saw the whole PEL.
constexpr const char *kClaim = R"lua(
local consumer, lease, want = ARGV[2], ARGV[3], tonumber(ARGV[4])
local out, cursor, rounds = {}, '0-0', 0
repeat
  local r = redis.call('XAUTOCLAIM', stream, group, consumer, lease, cursor, 'COUNT', want - #out)
  cursor = r[1]
  for _, e in ipairs(r[2]) do
    if type(e) == 'table' and type(e[2]) == 'table' then
      local p = pending_entry(e[1])
      if p then out[#out + 1] = {e[1], tonumber(p[4]), e[2]} end
    end
  end
  rounds = rounds + 1
until cursor == '0-0' or #out >= want or rounds >= 100
return {'', out}
)lua";

// ARGV: group, consumer, after ("-" or an id), count. XCLAIM without JUSTID counts a delivery.
constexpr const char *kReclaimOwn = R"lua(
local consumer, after = ARGV[2], ARGV[3]
local start = after == '-' and '-' or '(' .. after
local out, last = {}, ''
for _, e in ipairs(redis.call('XPENDING', stream, group, start, '+', ARGV[4], consumer)) do
  last = e[1]
  local c = redis.call('XCLAIM', stream, group, consumer, 0, e[1])
  local p = pending_entry(e[1])
  if type(c[1]) == 'table' and type(c[1][2]) == 'table' and p then out[#out + 1] = {e[1], tonumber(p[4]), c[1][2]} end
end
return {last, out}
)lua";

// KEYS: stream, record. ARGV: group, consumer, attempt, id, commands.
constexpr const char *kRunningWrite = R"lua(
local status = redis.call('HGET', KEYS[2], 'status')
if status and status ~= 'running' then return 'final' end
if not owns(ARGV[4], ARGV[2], ARGV[3]) then return 'stale' end
run_commands(5)
return 'written'
)lua";

// KEYS: stream, record. ARGV: group, consumer, attempt, id, a user function's definition key or '', the
// counter hash, the function's name, commands. The count lives outside hutch:fn:*, which hutchd may only
// read (docs/security.md, roles).
constexpr const char *kFinalWrite = R"lua(
local record = redis.call('HMGET', KEYS[2], 'status', 'attempt', 'worker')
if record[1] and record[1] ~= 'running' then
  if record[2] == ARGV[3] and record[3] == ARGV[2] then return 'done' end
  local e = pending_entry(ARGV[4])
  if e and e[2] == ARGV[2] then redis.call('XACK', stream, group, ARGV[4]) end
  return 'final'
end
if not owns(ARGV[4], ARGV[2], ARGV[3]) then return 'stale' end
-- The count is best effort: whoever can write the counter hash may have made it a string, or the count a
-- word, and that must never keep the record from being written. It lives outside hutch:fn:*, which hutchd
-- may only read (docs/security.md, roles).
if ARGV[5] ~= '' and redis.call('EXISTS', ARGV[5]) == 1 then redis.pcall('HINCRBY', ARGV[6], ARGV[7], 1) end
run_commands(8)
return 'written'
)lua";

// ARGV: group, consumer, then id and attempt per running execution.
constexpr const char *kHeartbeat = R"lua(
local consumer, lost = ARGV[2], {}
for i = 3, #ARGV, 2 do
  local mine, e = owns(ARGV[i], consumer, ARGV[i + 1])
  if not mine then
    lost[#lost + 1] = ARGV[i]
  elseif e then
    redis.call('XCLAIM', stream, group, consumer, 0, ARGV[i], 'JUSTID')
  end
end
return lost
)lua";

// KEYS: stream, log stream. ARGV: group, consumer, attempt, id, lease_ms, log line.
constexpr const char *kHandBack = R"lua(
local mine, e = owns(ARGV[4], ARGV[2], ARGV[3])
if not mine or not e then return 'stale' end
redis.call('XADD', KEYS[2], '*', 'fd', 'err', 'line', ARGV[6])
redis.call('XCLAIM', stream, group, ARGV[2], 0, ARGV[4], 'IDLE', ARGV[5], 'JUSTID')
return 'written'
)lua";

// KEYS: stream, hutch:execs. ARGV: group, cutoff ms or ''. Only acknowledged entries go: those below the
// oldest pending one, or, when none is pending, below the last one the group delivered.
constexpr const char *kMaintenance = R"lua(
local trimmed, pruned = 0, 0
if redis.call('EXISTS', stream) == 1 then
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
    local info = {}
    for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
    if info['name'] == group then
      local minid = info['last-delivered-id']
      local summary = redis.call('XPENDING', stream, group)
      if summary[1] > 0 then minid = summary[2] end
      trimmed = redis.call('XTRIM', stream, 'MINID', minid)
    end
  end
end
if ARGV[2] ~= '' then pruned = redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[2]) end
return {trimmed, pruned}
)lua";

Command eval(const char *script, std::vector<std::string> keys, std::vector<std::string> arguments) {
  Command command{"EVAL", std::string(kPrelude) + script, std::to_string(keys.size())};
  for (std::string &key : keys) command.push_back(std::move(key));
  for (std::string &argument : arguments) command.push_back(std::move(argument));
  return command;
}

std::vector<std::string> fence_arguments(const std::string &id, const Fence &fence) {
  return {std::string(keys::kConsumerGroup), fence.consumer, std::to_string(fence.attempt), id};
}

void append(std::vector<std::string> &to, std::vector<std::string> more) {
  for (std::string &item : more) to.push_back(std::move(item));
}

std::string jobs() { return std::string(keys::kJobsStream); }

Result<ClaimedEntry> parse_claimed(const redisReply *entry) {
  if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 3 || entry->element[0]->type != REDIS_REPLY_STRING ||
      entry->element[1]->type != REDIS_REPLY_INTEGER || entry->element[2]->type != REDIS_REPLY_ARRAY)
    return fail(make_error("a claimed entry is not [id, deliveries, fields]"));
  ClaimedEntry claimed;
  claimed.id = reply_string(entry->element[0]);
  claimed.attempt = static_cast<int>(entry->element[1]->integer);
  const redisReply *fields = entry->element[2];
  for (size_t i = 0; i + 1 < fields->elements; i += 2)
    claimed.fields.emplace_back(reply_string(fields->element[i]), reply_string(fields->element[i + 1]));
  return claimed;
}

}  // namespace

std::vector<std::string> flatten_commands(const std::vector<Command> &commands) {
  std::vector<std::string> flat{std::to_string(commands.size())};
  for (const Command &command : commands) {
    flat.push_back(std::to_string(command.size()));
    flat.insert(flat.end(), command.begin(), command.end());
  }
  return flat;
}

Command claim_command(const std::string &consumer, int64_t lease_ms, size_t count) {
  return eval(kClaim, {jobs()},
              {std::string(keys::kConsumerGroup), consumer, std::to_string(lease_ms), std::to_string(count)});
}

Command reclaim_own_command(const std::string &consumer, const std::string &after, size_t count) {
  return eval(kReclaimOwn, {jobs()}, {std::string(keys::kConsumerGroup), consumer, after, std::to_string(count)});
}

Result<ClaimBatch> parse_claim_reply(const redisReply *reply) {
  if (reply == nullptr) return fail(make_error("no reply (connection lost)"));
  if (reply->type == REDIS_REPLY_ERROR) return fail(make_error(reply_string(reply)));
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 || reply->element[1]->type != REDIS_REPLY_ARRAY)
    return fail(make_error("the claim script's reply is not [cursor, entries]"));
  ClaimBatch batch;
  batch.cursor = reply_string(reply->element[0]);
  const redisReply *entries = reply->element[1];
  for (size_t i = 0; i < entries->elements; ++i) {
    TRY_ASSIGN(ClaimedEntry entry, parse_claimed(entries->element[i]));
    batch.entries.push_back(std::move(entry));
  }
  return batch;
}

Result<WriteOutcome> parse_write_reply(const redisReply *reply) {
  if (reply == nullptr) return fail(make_error("no reply (connection lost)"));
  std::string text = reply_string(reply);
  if (reply->type == REDIS_REPLY_ERROR) return fail(make_error(text));
  if (text == "written") return WriteOutcome::kWritten;
  if (text == "done") return WriteOutcome::kDone;
  if (text == "final") return WriteOutcome::kFinal;
  if (text == "stale") return WriteOutcome::kStale;
  return fail(make_error("unexpected reply '" + text + "' from a fenced write"));
}

std::string_view describe_write_outcome(WriteOutcome outcome) {
  switch (outcome) {
    case WriteOutcome::kWritten: return "written";
    case WriteOutcome::kDone: return "already written by this attempt";
    case WriteOutcome::kFinal: return "refused: the record was already final (another attempt wrote it)";
    case WriteOutcome::kStale: return "refused: another supervisor or a later attempt owns the job now";
  }
  return "unknown";
}

Command running_write_command(const std::string &id, const Fence &fence, const std::vector<Command> &commands) {
  std::vector<std::string> arguments = fence_arguments(id, fence);
  append(arguments, flatten_commands(commands));
  return eval(kRunningWrite, {jobs(), keys::execution_record(id)}, std::move(arguments));
}

Command final_write_command(const std::string &id, const Fence &fence, const std::string &counted_function,
                            const std::vector<Command> &commands) {
  std::vector<std::string> arguments = fence_arguments(id, fence);
  arguments.push_back(counted_function.empty() ? "" : keys::function_definition(counted_function));
  arguments.push_back(keys::kFunctionExecutions);
  arguments.push_back(counted_function);
  append(arguments, flatten_commands(commands));
  return eval(kFinalWrite, {jobs(), keys::execution_record(id)}, std::move(arguments));
}

Command heartbeat_command(const std::string &consumer, const std::vector<std::pair<std::string, int>> &running) {
  std::vector<std::string> arguments{std::string(keys::kConsumerGroup), consumer};
  for (const auto &[id, attempt] : running) {
    arguments.push_back(id);
    arguments.push_back(std::to_string(attempt));
  }
  return eval(kHeartbeat, {jobs()}, std::move(arguments));
}

Result<std::vector<std::string>> parse_heartbeat_reply(const redisReply *reply) {
  if (reply == nullptr) return fail(make_error("no reply (connection lost)"));
  if (reply->type == REDIS_REPLY_ERROR) return fail(make_error(reply_string(reply)));
  if (reply->type != REDIS_REPLY_ARRAY) return fail(make_error("the heartbeat script's reply is not a list of ids"));
  std::vector<std::string> lost;
  for (size_t i = 0; i < reply->elements; ++i) lost.push_back(reply_string(reply->element[i]));
  return lost;
}

Command hand_back_command(const std::string &id, const Fence &fence, int64_t lease_ms, const std::string &log_line) {
  std::vector<std::string> arguments = fence_arguments(id, fence);
  arguments.push_back(std::to_string(lease_ms));
  arguments.push_back(log_line);
  return eval(kHandBack, {jobs(), keys::execution_logs(id)}, std::move(arguments));
}

Command maintenance_command(std::optional<int64_t> execs_cutoff_ms) {
  return eval(kMaintenance, {jobs(), std::string(keys::kExecutionsIndex)},
              {std::string(keys::kConsumerGroup), execs_cutoff_ms ? std::to_string(*execs_cutoff_ms) : ""});
}

}  // namespace hutch
