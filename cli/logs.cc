// `hutch logs ID [-f]`: one execution's log. A queued job has no log stream yet; with -f it is waited for.
#include "cli/execution_lookup.h"
#include "cli/log_follow.h"
#include "cli/verbs.h"

namespace hutch::cli {

Result<int> run_logs(RedisClient &redis, const RedisAddress &address, const LogsOptions &options) {
  if (!options.id) return run_logs_follow_all(redis, address, output_for(options.raw));
  TRY_ASSIGN(bool exists, execution_exists(redis, *options.id));
  if (!exists) return fail(no_execution(*options.id));
  TRY_ASSIGN(auto final_status, print_execution_logs(redis, *options.id, options.follow, output_for(options.raw)));
  (void)final_status;  // the exit status says whether the logs could be read, not how the job ended
  return 0;
}

}  // namespace hutch::cli
