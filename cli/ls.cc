// `hutch ls`: executions, newest first. Executions with a record come from the hutch:execs index. Jobs no
// supervisor has received yet have neither a record nor an index entry, so they are read from hutch:jobs
// past the consumer group's last delivered id and shown as `queued`. Both lists are newest-first and each
// is cut at the limit, so merging them by id (ids order by enqueue time) gives the newest `limit` overall.
#include <algorithm>
#include <cstdio>

#include "cli/execution_id.h"
#include "cli/record_format.h"
#include "cli/verbs.h"
#include "queue/keys.h"
#include "queue/status.h"

namespace hutch::cli {
namespace {

namespace record = keys::record;

constexpr size_t kPageSize = 200;

bool matches(const ExecutionRow &row, const LsOptions &options) {
  return (!options.function || row.function == *options.function) &&
         (!options.status || row.status == *options.status);
}

bool wants_queued(const LsOptions &options) {
  return !options.status || *options.status == status_word(ExecutionStatus::kQueued);
}

Result<std::vector<ExecutionRow>> recorded_rows(RedisClient &redis, const LsOptions &options) {
  std::vector<ExecutionRow> rows;
  // `queued` is never stored: asking for it skips the index entirely.
  if (options.status && *options.status == status_word(ExecutionStatus::kQueued)) return rows;
  for (size_t start = 0; rows.size() < options.limit; start += kPageSize) {
    TRY_ASSIGN(Reply page, redis.command({"ZREVRANGE", std::string(keys::kExecutionsIndex), std::to_string(start),
                                          std::to_string(start + kPageSize - 1)}));
    std::vector<std::string> ids;
    for (size_t i = 0; page->type == REDIS_REPLY_ARRAY && i < page->elements; ++i)
      ids.push_back(reply_text(page->element[i]));
    for (const auto &id : ids) {
      TRY_STATUS(redis.append({"HMGET", keys::execution_record(id), std::string(record::kFunction),
                               std::string(record::kStatus), std::string(record::kDuration),
                               std::string(record::kEnqueuedAt)}));
    }
    for (const auto &id : ids) {  // every reply is read, even past the limit, to keep the pipeline in step
      TRY_ASSIGN(Reply values, redis.next_reply());
      if (values->type != REDIS_REPLY_ARRAY || values->elements != 4) continue;
      // An index entry whose record was deleted is skipped: `status` would not find it either.
      if (reply_is_nil(values->element[0]) && reply_is_nil(values->element[1])) continue;
      ExecutionRow row{id, reply_text(values->element[0]), reply_text(values->element[1]),
                       reply_text(values->element[2]), reply_text(values->element[3])};
      if (matches(row, options) && rows.size() < options.limit) rows.push_back(std::move(row));
    }
    if (ids.size() < kPageSize) break;
  }
  return rows;
}

// Where undelivered jobs start: none when there is no job stream, "" when no supervisor ever created its
// group (so every entry is queued), else the group's last delivered id.
Result<std::optional<std::string>> last_delivered_id(RedisClient &redis) {
  const std::string jobs(keys::kJobsStream);
  TRY_ASSIGN(Reply type, redis.command({"TYPE", jobs}));
  if (reply_text(type.get()) != "stream") return std::optional<std::string>();
  TRY_ASSIGN(Reply groups, redis.command({"XINFO", "GROUPS", jobs}));
  for (size_t i = 0; groups->type == REDIS_REPLY_ARRAY && i < groups->elements; ++i) {
    FieldList group = reply_field_pairs(groups->element[i]);
    if (field_value(group, "name") == keys::kConsumerGroup)
      return std::optional<std::string>(field_value(group, "last-delivered-id").value_or(""));
  }
  return std::optional<std::string>("");
}

Result<std::vector<ExecutionRow>> queued_rows(RedisClient &redis, const LsOptions &options) {
  std::vector<ExecutionRow> rows;
  if (!wants_queued(options)) return rows;
  TRY_ASSIGN(auto delivered, last_delivered_id(redis));
  if (!delivered) return rows;
  const std::string oldest = delivered->empty() ? "-" : "(" + *delivered;
  std::string newest = "+";
  while (rows.size() < options.limit) {
    TRY_ASSIGN(Reply page, redis.command({"XREVRANGE", std::string(keys::kJobsStream), newest, oldest, "COUNT",
                                          std::to_string(kPageSize)}));
    auto entries = reply_stream_entries(page.get());
    // Undelivered entries normally have no record; one that has (a record written by hand, a supervisor that
    // skipped the group) is listed from the index instead, with its real status.
    for (const auto &entry : entries) TRY_STATUS(redis.append({"EXISTS", keys::execution_record(entry.id)}));
    std::vector<bool> recorded;
    for (size_t i = 0; i < entries.size(); ++i) {
      TRY_ASSIGN(Reply exists, redis.next_reply());
      recorded.push_back(exists->type == REDIS_REPLY_INTEGER && exists->integer > 0);
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      if (recorded[i]) continue;
      const StreamEntry &entry = entries[i];
      auto id = parse_stream_id(entry.id);
      ExecutionRow row{entry.id, field_value(entry.fields, keys::job::kFunction).value_or(""),
                       std::string(status_word(ExecutionStatus::kQueued)), "",
                       id ? iso_time_from_milliseconds(id->milliseconds) : ""};
      if (matches(row, options) && rows.size() < options.limit) rows.push_back(std::move(row));
    }
    if (entries.size() < kPageSize) break;
    newest = "(" + entries.back().id;
  }
  return rows;
}

bool newer(const ExecutionRow &left, const ExecutionRow &right) {
  return parse_stream_id(left.id).value_or(StreamId{}) > parse_stream_id(right.id).value_or(StreamId{});
}

}  // namespace

Result<int> run_ls(RedisClient &redis, const LsOptions &options) {
  TRY_ASSIGN(std::vector<ExecutionRow> rows, recorded_rows(redis, options));
  TRY_ASSIGN(std::vector<ExecutionRow> queued, queued_rows(redis, options));
  rows.insert(rows.end(), queued.begin(), queued.end());
  // Stable: for an id in both lists (a redelivered job), the recorded row comes first and is the one kept.
  std::stable_sort(rows.begin(), rows.end(), newer);
  rows.erase(std::unique(rows.begin(), rows.end(), [](const auto &a, const auto &b) { return a.id == b.id; }),
             rows.end());
  if (rows.size() > options.limit) rows.resize(options.limit);
  std::string table = format_execution_table(rows, output_for(options.raw));
  std::fwrite(table.data(), 1, table.size(), stdout);
  return 0;
}

}  // namespace hutch::cli
