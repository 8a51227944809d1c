// Catch-up and follow are two phases: XRANGE pages for what is already logged (fast, no waiting), then
// XREAD BLOCK for what comes next. The eof entry is the normal end. The record is the fallback: if it
// holds a final status and no eof entry arrives within a grace period (logs lost, or written by an older
// supervisor), the follower stops anyway, so `--wait` and `-f` never hang on an execution that is over.
#include "cli/log_follow.h"

#include <chrono>

#include "cli/execution_lookup.h"
#include "cli/log_output.h"
#include "queue/keys.h"

namespace hutch::cli {
namespace {

constexpr size_t kPageSize = 1000;
// Short enough that the record check runs about five times a second while the logs are quiet.
constexpr int kBlockMilliseconds = 200;
// A supervisor writes the final record and the eof entry separately; give the eof entry this long to follow.
constexpr auto kEofGrace = std::chrono::seconds(2);

// Prints everything logged after `last_id` (empty: from the start). Returns the eof status if it came.
Result<std::optional<std::string>> catch_up(RedisClient &redis, const std::string &key, std::string &last_id,
                                            Output output) {
  for (;;) {
    std::string start = last_id.empty() ? "-" : "(" + last_id;
    TRY_ASSIGN(Reply page, redis.command({"XRANGE", key, start, "+", "COUNT", std::to_string(kPageSize)}));
    auto entries = reply_stream_entries(page.get());
    if (auto eof = print_log_entries(entries, "", last_id, output)) return eof;
    if (entries.size() < kPageSize) return std::optional<std::string>();
  }
}

// Entries of the single stream an XREAD asked for; none when it timed out.
std::vector<StreamEntry> xread_entries(const redisReply *reply) {
  if (reply_is_nil(reply) || reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) return {};
  const redisReply *stream = reply->element[0];
  if (stream->type != REDIS_REPLY_ARRAY || stream->elements < 2) return {};
  return reply_stream_entries(stream->element[1]);
}

}  // namespace

Result<std::optional<std::string>> print_execution_logs(RedisClient &redis, const std::string &id, bool follow,
                                                        Output output) {
  const std::string key = keys::execution_logs(id);
  std::string last_id;
  TRY_ASSIGN(auto eof, catch_up(redis, key, last_id, output));
  if (eof || !follow) return eof;

  std::optional<std::chrono::steady_clock::time_point> final_record_seen_at;
  for (;;) {
    TRY_ASSIGN(Reply reply, redis.command({"XREAD", "COUNT", std::to_string(kPageSize), "BLOCK",
                                           std::to_string(kBlockMilliseconds), "STREAMS", key,
                                           last_id.empty() ? "0-0" : last_id}));
    auto entries = xread_entries(reply.get());
    if (auto eof_status = print_log_entries(entries, "", last_id, output)) return eof_status;
    if (!entries.empty()) continue;
    TRY_ASSIGN(auto final_status, fetch_final_status(redis, id));
    if (!final_status) continue;
    auto now = std::chrono::steady_clock::now();
    if (!final_record_seen_at) final_record_seen_at = now;
    if (now - *final_record_seen_at >= kEofGrace) return final_status;
  }
}

}  // namespace hutch::cli
