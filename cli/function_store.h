// Writing user functions to Redis for `hutch function` and `hutch package`: the checks a definition must
// pass (name, clash with a built-in, entry, defaults), the atomic write of blob + definition + index, and
// dropping blobs no function uses any more.
#pragma once

#include <string>
#include <vector>

#include "cli/redis_client.h"
#include "common/error.h"
#include "catalog/package.h"
#include "queue/function_definition.h"

namespace hutch::cli {

struct Code {
  std::string archive;  // canonical (functions/package.h)
  std::vector<PackageEntry> entries;
  std::string sha256;
};

// Reads --file or --package into the canonical archive.
Result<Code> load_code(const std::string &path, bool single_file);

// Fills a definition's defaults (nullopt: keep), each checked with the job field's rule; sentences name
// them `<prefix>timeout` etc. ("--" for flags, "" for a manifest's keys).
Status apply_defaults(FunctionDefinition &definition, const std::optional<std::string> &timeout,
                      const std::optional<std::string> &memory, const std::optional<std::string> &cpu,
                      const std::string &prefix = "--");

// The entry must split into words and start with an executable file of the package or a program under
// /usr as the sandbox sees it (catalog/entry_program.h), here on the CLI's host.
Status check_entry(const std::string &entry, const std::vector<PackageEntry> &entries);

// A name jobs can call: valid, and not a built-in (a user function can never replace one).
Status check_user_function_name(const std::string &name);

// The stored definition read and checked as hutchd reads it (queue/function_definition.h): nullopt when
// there is none, an error naming the field and the rule when it breaks one.
Result<std::optional<FunctionDefinition>> load_definition(RedisClient &redis, const std::string &name);
// hutch:blob:<sha256>, refused from its size when over 64 MiB.
Result<std::string> load_blob(RedisClient &redis, const std::string &sha256);
// Checks the definition (check_definition), then MULTI: SET the blob (when new), HSET the definition
// (replacing the old one), SADD the index; EXEC.
Status store_definition(RedisClient &redis, const FunctionDefinition &definition, const Code *code);
// DEL the definition (even one that breaks the rules), SREM; then its blob if no remaining function
// refers to it.
Status delete_definition(RedisClient &redis, const std::string &name);
// DEL the blobs `candidates` (checksums) that no function refers to any more.
Status drop_unused_blobs(RedisClient &redis, const std::vector<std::string> &candidates);

std::string now_timestamp();

}  // namespace hutch::cli
