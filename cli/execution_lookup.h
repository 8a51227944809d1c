// Finding an execution: its record, its job entry while queued, and whether it exists at all. Ids that
// are not stream ids are answered "not there" here, before they reach a Redis command that would reject them.
#pragma once

#include <optional>
#include <string>

#include "cli/fields.h"
#include "cli/redis_client.h"
#include "common/error.h"

namespace hutch::cli {

// HGETALL of the record; empty when there is none.
Result<FieldList> fetch_record(RedisClient &redis, const std::string &id);

// The job's entry in hutch:jobs, while the stream still holds it.
Result<std::optional<StreamEntry>> fetch_job_entry(RedisClient &redis, const std::string &id);

// A record, a log stream, or a job entry: any of them means the id names an execution.
Result<bool> execution_exists(RedisClient &redis, const std::string &id);

// The record's status when it is a final word, else none (no record, running, or not a status word).
Result<std::optional<std::string>> fetch_final_status(RedisClient &redis, const std::string &id);

// The error every verb gives for an id that names nothing.
Error no_execution(const std::string &id);

}  // namespace hutch::cli
