// `hutch status ID [--json]`: the record, or `queued` while the job waits in hutch:jobs without one.
#include <cstdio>

#include "cli/execution_lookup.h"
#include "cli/record_format.h"
#include "cli/verbs.h"

namespace hutch::cli {

void print_record(const FieldList &record, bool json, Output output) {
  std::string text = json ? format_record_json(record, output) + "\n" : format_record_text(record, output);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

Result<int> run_status(RedisClient &redis, const StatusOptions &options) {
  TRY_ASSIGN(FieldList record, fetch_record(redis, options.id));
  if (record.empty()) {
    // No record yet: the supervisor has not started it, which the protocol calls queued.
    TRY_ASSIGN(auto job, fetch_job_entry(redis, options.id));
    if (!job) return fail(no_execution(options.id));
    record = queued_record(*job);
  }
  print_record(record, options.json, output_for(options.raw));
  return 0;
}

}  // namespace hutch::cli
