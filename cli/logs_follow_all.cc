// `hutch logs -f` without an id: every execution's lines as they come, prefixed `<id> <function>: `.
//
// Two connections, one thread. The subscriber hears `<id> running` on hutch:events and the other
// connection XREADs the log streams of the executions being followed, from their first entry, so lines
// written before the event was seen are not lost. The subscriber is only read when poll() says it has
// data, so it never blocks the log reads. A stream is dropped at its eof entry, or when no eof entry comes, a grace period
// after its final status event and its last line. Executions already running at start are followed from the
// current end of their logs: their earlier lines belong to the past this command did not ask for.
#include <chrono>
#include <map>

#include "cli/execution_lookup.h"
#include "cli/log_output.h"
#include "cli/status_words.h"
#include "cli/verbs.h"
#include "queue/keys.h"
#include "queue/status.h"

namespace hutch::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kPageSize = 1000;
constexpr int kBlockMilliseconds = 500;
constexpr int kIdleWaitMilliseconds = 1000;
constexpr auto kEofGrace = std::chrono::seconds(2);
// How far back the index is searched for executions already running at start.
constexpr int kRecentExecutions = 1000;

struct Followed {
  std::string prefix;  // "<id> <function>: "
  std::string last_id;
  std::optional<Clock::time_point> final_event_at;
};
using FollowedByKey = std::map<std::string, Followed>;  // keyed by log stream key

Result<std::string> function_of(RedisClient &redis, const std::string &id) {
  TRY_ASSIGN(Reply reply, redis.command({"HGET", keys::execution_record(id), std::string(keys::record::kFunction)}));
  if (!reply_is_nil(reply.get())) return reply_text(reply.get());
  TRY_ASSIGN(auto job, fetch_job_entry(redis, id));
  return job ? field_value(job->fields, keys::job::kFunction).value_or("?") : std::string("?");
}

Status follow(RedisClient &redis, FollowedByKey &followed, const std::string &id, std::string last_id,
              Output output) {
  std::string key = keys::execution_logs(id);
  if (followed.contains(key)) return {};
  TRY_ASSIGN(std::string function, function_of(redis, id));
  // The id comes from an event anyone allowed to PUBLISH there could send, the function from a record.
  followed[key] = Followed{shown(id + " " + function, output) + ": ", std::move(last_id), std::nullopt};
  return {};
}

Status follow_already_running(RedisClient &redis, FollowedByKey &followed, Output output) {
  TRY_ASSIGN(Reply index, redis.command({"ZREVRANGE", std::string(keys::kExecutionsIndex), "0",
                                         std::to_string(kRecentExecutions - 1)}));
  std::vector<std::string> ids;
  for (size_t i = 0; index->type == REDIS_REPLY_ARRAY && i < index->elements; ++i)
    ids.push_back(reply_text(index->element[i]));
  for (const auto &id : ids)
    TRY_STATUS(redis.append({"HGET", keys::execution_record(id), std::string(keys::record::kStatus)}));
  std::vector<std::string> running;
  for (const auto &id : ids) {
    TRY_ASSIGN(Reply status, redis.next_reply());
    if (reply_text(status.get()) == status_word(ExecutionStatus::kRunning)) running.push_back(id);
  }
  for (const auto &id : running) {
    TRY_ASSIGN(Reply last, redis.command({"XREVRANGE", keys::execution_logs(id), "+", "-", "COUNT", "1"}));
    auto entries = reply_stream_entries(last.get());
    TRY_STATUS(follow(redis, followed, id, entries.empty() ? "" : entries.front().id, output));
  }
  return {};
}

// One `<id> <status>` message: `running` starts following, a final word starts the eof grace period.
Status handle_event(RedisClient &redis, FollowedByKey &followed, const std::string &message, Output output) {
  auto space = message.find(' ');
  if (space == std::string::npos) return {};
  std::string id = message.substr(0, space), status = message.substr(space + 1);
  if (status == status_word(ExecutionStatus::kRunning)) return follow(redis, followed, id, "", output);
  auto found = followed.find(keys::execution_logs(id));
  if (found != followed.end() && is_final_status_word(status) && !found->second.final_event_at)
    found->second.final_event_at = Clock::now();
  return {};
}

Status drain_events(RedisClient &redis, RedisClient &subscriber, FollowedByKey &followed, int wait_ms,
                    Output output) {
  for (int timeout = wait_ms;; timeout = 0) {
    TRY_ASSIGN(Reply reply, subscriber.poll_reply(timeout));
    if (!reply) return {};
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 && reply_text(reply->element[0]) == "message")
      TRY_STATUS(handle_event(redis, followed, reply_text(reply->element[2]), output));
  }
}

Status read_logs(RedisClient &redis, FollowedByKey &followed, Output output) {
  std::vector<std::string> command{"XREAD", "COUNT", std::to_string(kPageSize), "BLOCK",
                                   std::to_string(kBlockMilliseconds), "STREAMS"};
  for (const auto &[key, state] : followed) command.push_back(key);
  for (const auto &[key, state] : followed) command.push_back(state.last_id.empty() ? "0-0" : state.last_id);
  TRY_ASSIGN(Reply reply, redis.command(command));
  for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; ++i) {
    const redisReply *stream = reply->element[i];
    if (stream->type != REDIS_REPLY_ARRAY || stream->elements < 2) continue;
    auto found = followed.find(reply_text(stream->element[0]));
    if (found == followed.end()) continue;
    auto entries = reply_stream_entries(stream->element[1]);
    if (print_log_entries(entries, found->second.prefix, found->second.last_id, output)) {
      followed.erase(found);
      continue;
    }
    // Still catching up on a long log: the grace period counts from the last line, not from the event.
    if (!entries.empty() && found->second.final_event_at) found->second.final_event_at = Clock::now();
  }
  std::erase_if(followed, [now = Clock::now()](const auto &item) {
    return item.second.final_event_at && now - *item.second.final_event_at >= kEofGrace;
  });
  return {};
}

}  // namespace

Result<int> run_logs_follow_all(RedisClient &redis, const RedisAddress &address, Output output) {
  TRY_ASSIGN(RedisClient subscriber, RedisClient::connect(address));
  TRY_ASSIGN(Reply subscribed, subscriber.command({"SUBSCRIBE", std::string(keys::kEventsChannel)}));
  FollowedByKey followed;
  // Subscribed first, then the look-up: an execution starting in between is seen twice, never missed.
  TRY_STATUS(follow_already_running(redis, followed, output));
  for (;;) {
    TRY_STATUS(drain_events(redis, subscriber, followed, followed.empty() ? kIdleWaitMilliseconds : 0, output));
    if (!followed.empty()) TRY_STATUS(read_logs(redis, followed, output));
  }
}

}  // namespace hutch::cli
