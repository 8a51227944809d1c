// One function per verb. Each returns the exit status, or an Error whose sentence main prints (exit 1).
// Usage errors and unreachable Redis are decided in main before a verb runs (exit 2).
#pragma once

#include "cli/fields.h"
#include "cli/options.h"
#include "cli/redis_client.h"
#include "cli/shown.h"
#include "common/error.h"
#include "queue/redis_url.h"

namespace hutch::cli {

// Replaces an `--input @FILE` with the file's text (`@-`: stdin). Run before connecting: a missing file is
// the user's mistake to fix, not a job to enqueue.
Status resolve_submit_input(SubmitOptions &options);

Result<int> run_submit(RedisClient &redis, const SubmitOptions &options);
Result<int> run_status(RedisClient &redis, const StatusOptions &options);
Result<int> run_ls(RedisClient &redis, const LsOptions &options);
Result<int> run_logs(RedisClient &redis, const RedisAddress &address, const LogsOptions &options);
// `logs -f` without an id; needs the address for its second (subscribed) connection.
Result<int> run_logs_follow_all(RedisClient &redis, const RedisAddress &address, Output output);

// `doctor`: what this machine offers hutchd (the same report as `hutchd --check`). Needs no Redis; exit 0
// only when hutchd can run with real isolation.
Result<int> run_doctor(const DoctorOptions &options);

// `put KEY FILE`, `get KEY [FILE]`: a file's bytes into or out of one Redis string.
Result<int> run_put(RedisClient &redis, const PutOptions &options);
Result<int> run_get(RedisClient &redis, const GetOptions &options);
// `submit --file`: stores each file under its content address; returns the job's `files` field.
Result<std::string> upload_submit_files(RedisClient &redis, const SubmitOptions &options);

// `function ...` and `package ...`: user functions stored in Redis.
Result<int> run_function(RedisClient &redis, const FunctionOptions &options);
Result<int> run_package(RedisClient &redis, const PackageOptions &options);

// Prints a record the way `status` does; `submit --wait` ends with it.
void print_record(const FieldList &record, bool json, Output output);

// `acl`: prints a Redis ACL file with one user per role (docs/security.md). Needs no Redis.
Result<int> run_acl(const AclOptions &options);

}  // namespace hutch::cli
