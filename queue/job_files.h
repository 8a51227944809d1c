// Files in and out of a job, on the Redis side (docs/protocol.md, "Files").
//
// In: one EVAL_RO reads every key the job's `files` names, atomically, and only when all exist, are strings
// and fit the caps; otherwise it answers which key broke which rule, without sending any value. So a 500 MB
// value is never shipped just to be refused, and the job sees one consistent snapshot of its inputs.
// Out: the files a successful function left in $HUTCH_OUT become SETs inside the final record's MULTI, so
// `files_out` and the keys it names land together. Pure logic: commands and replies, no connection.
#pragma once

#include <hiredis/hiredis.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "queue/job.h"
#include "queue/record.h"

namespace hutch {

struct FileCaps {
  uint64_t per_file_bytes = 64ULL << 20;
  uint64_t per_job_bytes = 256ULL << 20;
};

// The job's input files, in the order of job.files.
struct FetchedFiles {
  std::vector<std::string> contents;
};
// Why the job cannot run: a sentence naming the key and the rule. `job_at_fault`: the job named keys that
// are missing, too large, not strings or beyond what Redis lets hutchd's user read (it is rejected);
// otherwise Redis failed us (an error).
struct FetchRefusal {
  std::string sentence;
  bool job_at_fault = true;
};

Command fetch_files_command(const Job &job, const FileCaps &caps);
std::variant<FetchedFiles, FetchRefusal> parse_fetch_reply(const redisReply *reply, const Job &job,
                                                            const FileCaps &caps);

struct OutputFile {
  std::string name;
  std::string content;
};

// SET <prefix>/<name> for each file, expiring after `retention_ms` (0: never); run by the fenced final write
// with the record (final_write).
std::vector<Command> store_output_commands(const Job &job, std::vector<OutputFile> files, int64_t retention_ms = 0);
// The record's `files_out`: [{"name":"a.png","key":"hutch:out:<id>/a.png","bytes":1234}, ...]
std::string files_out_json(const Job &job, const std::vector<OutputFile> &files);

}  // namespace hutch
