#include "cli/execution_lookup.h"

#include "cli/execution_id.h"
#include "queue/keys.h"
#include "cli/status_words.h"

namespace hutch::cli {

Error no_execution(const std::string &id) { return make_error("no execution " + id); }

Result<FieldList> fetch_record(RedisClient &redis, const std::string &id) {
  if (!parse_stream_id(id)) return FieldList{};
  TRY_ASSIGN(Reply reply, redis.command({"HGETALL", keys::execution_record(id)}));
  return reply_field_pairs(reply.get());
}

Result<std::optional<StreamEntry>> fetch_job_entry(RedisClient &redis, const std::string &id) {
  if (!parse_stream_id(id)) return std::optional<StreamEntry>();
  TRY_ASSIGN(Reply reply, redis.command({"XRANGE", std::string(keys::kJobsStream), id, id}));
  for (auto &entry : reply_stream_entries(reply.get()))
    if (entry.id == id) return std::optional<StreamEntry>(std::move(entry));
  return std::optional<StreamEntry>();
}

Result<bool> execution_exists(RedisClient &redis, const std::string &id) {
  if (!parse_stream_id(id)) return false;
  TRY_ASSIGN(Reply keys_found,
             redis.command({"EXISTS", keys::execution_record(id), keys::execution_logs(id)}));
  if (keys_found->type == REDIS_REPLY_INTEGER && keys_found->integer > 0) return true;
  TRY_ASSIGN(auto job, fetch_job_entry(redis, id));
  return job.has_value();
}

Result<std::optional<std::string>> fetch_final_status(RedisClient &redis, const std::string &id) {
  TRY_ASSIGN(Reply reply, redis.command({"HGET", keys::execution_record(id), std::string(keys::record::kStatus)}));
  std::string word = reply_text(reply.get());
  if (!is_final_status_word(word)) return std::optional<std::string>();
  return std::optional<std::string>(word);
}

}  // namespace hutch::cli
