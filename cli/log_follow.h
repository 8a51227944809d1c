// Reading one execution's log stream from its first line, used by `logs ID [-f]` and `submit --wait`.
#pragma once

#include <optional>
#include <string>

#include "cli/redis_client.h"
#include "cli/shown.h"
#include "common/error.h"

namespace hutch::cli {

// Prints the lines logged so far. Without `follow` it returns at the end of what is there; with it, it
// keeps reading until the execution ends. Returns the final status when it is known (from the eof entry,
// or from the record when the record is final and no eof entry comes), none when the logs simply ran out.
Result<std::optional<std::string>> print_execution_logs(RedisClient &redis, const std::string &id, bool follow,
                                                        Output output);

}  // namespace hutch::cli
