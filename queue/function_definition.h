// User functions as stored in Redis (docs/protocol.md, "User functions"): a definition hash per function and
// the code as a content-addressed blob, so any supervisor on any machine can run it. Pure logic: the
// fields, their rules and the entry's words; the CLI writes them, hutchd reads them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"

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
// From HGETALL; an error names the field that is missing or malformed.
Result<FunctionDefinition> definition_from_fields(const FieldPairs &fields);

// The entry's words, split as a shell would for plain words and '...' / "..." quoting (no variables,
// no globbing, no operators). An error for an empty entry or an unclosed quote.
Result<std::vector<std::string>> split_entry(const std::string &entry);

// Checks a function default against the same rule as the job field; the sentence names `flag`.
Result<double> parse_timeout_default(const std::string &flag, const std::string &text);
Result<uint64_t> parse_memory_default(const std::string &flag, const std::string &text);
Result<double> parse_cpu_default(const std::string &flag, const std::string &text);

}  // namespace hutch
