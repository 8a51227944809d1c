// User functions as stored in Redis (docs/protocol.md, "User functions"): a definition hash per function and
// the code as a content-addressed blob, so any supervisor on any machine can run it. The CLI writes them,
// hutchd reads them, and whoever can write a key with redis-cli can write anything into it: this file is the
// one place where a definition's fields and their rules live, for both sides, with the sentences both give.
// Sizes come before bytes: the keys are read through small Lua scripts that look at TYPE, HLEN, HSTRLEN or
// STRLEN first and return the bytes only when they are within the rules.
#pragma once

#include <hiredis/hiredis.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "queue/record.h"

namespace hutch {

namespace keys {
inline std::string function_definition(const std::string &name) { return "hutch:fn:" + name; }
inline constexpr const char kFunctionsSet[] = "hutch:fns";
inline std::string package_blob(const std::string &sha256) { return "hutch:blob:" + sha256; }
inline std::string package_record(const std::string &name) { return "hutch:pkg:" + name; }
inline constexpr const char kPackagesSet[] = "hutch:pkgs";
// How often each user function ran: a hash of name -> count, written by hutchd with each final record. Not
// a field of hutch:fn:<name>: hutchd may read definitions but never write them (docs/security.md, roles).
inline constexpr const char kFunctionExecutions[] = "hutch:fn-executions";
}  // namespace keys

inline constexpr uint64_t kMaxPackageBytes = 64ULL << 20;  // hutch:blob:<sha256>, the archive as stored
inline constexpr size_t kMaxDefinitionFields = 16;
inline constexpr size_t kMaxDefinitionFieldBytes = 4096;    // any value; checked in Redis before reading
inline constexpr size_t kMaxEntryBytes = 4096;
inline constexpr size_t kMaxDescriptionBytes = 1024;

struct FunctionDefinition {
  std::string name;                // as jobs call it; "<package>.<function>" for a package's functions
  std::string entry;               // "python3 main.py", run in the package directory's view
  std::string package_sha256;      // the code: hutch:blob:<sha256>
  uint64_t package_bytes = 0;
  std::string description;
  std::string package;             // the package it belongs to, or empty
  std::string function;            // $HUTCH_FUNCTION: its name inside the package (= name when alone)
  std::optional<double> timeout_seconds;
  std::optional<uint64_t> memory_bytes;
  std::optional<double> cpu_cores;
  std::string created_at;          // ISO 8601, as records are
  std::string updated_at;
  int64_t executions = 0;          // from hutch:fn-executions, not stored in the definition
};

using FieldPairs = std::vector<std::pair<std::string, std::string>>;

FieldPairs definition_fields(const FunctionDefinition &definition);
// From the fields of `hutch:fn:<key_name>`; an error is "hutch:fn:<key_name>: <field> ... <rule>".
Result<FunctionDefinition> definition_from_fields(const FieldPairs &fields, const std::string &key_name);
// Every field's rule (name, entry, package_sha256, package_bytes, description, package, function, times):
// what the CLI checks before it stores a definition and hutchd after it reads one.
Status check_definition(const FunctionDefinition &definition);

// Reads hutch:fn:<name> only when it is a hash of at most kMaxDefinitionFields fields of at most
// kMaxDefinitionFieldBytes each. The reply parses to its field/value pairs, nullopt when there is no such
// key, or a sentence naming the key and what is too large.
Command read_definition_command(const std::string &name);
Result<std::optional<FieldPairs>> parse_definition_reply(const std::string &name, const redisReply *reply);

// Reads hutch:blob:<sha256> only when it is a string of at most kMaxPackageBytes: a larger one is refused
// from its STRLEN without being read.
Command read_blob_command(const std::string &sha256);
Result<std::string> parse_blob_reply(const std::string &sha256, const redisReply *reply);

// The entry's words, split as a shell would for plain words and '...' / "..." quoting (no variables,
// no globbing, no operators). An error for an empty entry or an unclosed quote.
Result<std::vector<std::string>> split_entry(const std::string &entry);

// Checks a function default against the same rule as the job field; the sentence names `flag`.
Result<double> parse_timeout_default(const std::string &flag, const std::string &text);
Result<uint64_t> parse_memory_default(const std::string &flag, const std::string &text);
Result<double> parse_cpu_default(const std::string &flag, const std::string &text);

}  // namespace hutch
