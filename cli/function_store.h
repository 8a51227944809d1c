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

// The entry must split into words and start with a file of the package or a program on this host's PATH.
Status check_entry(const std::string &entry, const std::vector<PackageEntry> &entries);

// A name jobs can call: valid, and not a built-in (a user function can never replace one).
Status check_user_function_name(const std::string &name);

Result<std::optional<FunctionDefinition>> load_definition(RedisClient &redis, const std::string &name);
// MULTI: SET the blob (when new), HSET the definition (replacing the old one), SADD the index; EXEC.
Status store_definition(RedisClient &redis, const FunctionDefinition &definition, const Code *code);
// DEL the definition, SREM; then the blobs `candidates` if no remaining function refers to them.
Status delete_definition(RedisClient &redis, const std::string &name);
Status drop_unused_blobs(RedisClient &redis, const std::vector<std::string> &candidates);

std::string now_timestamp();

}  // namespace hutch::cli
