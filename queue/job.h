// A job as read from the stream hutch:jobs: parsed and validated, or rejected with a sentence that names
// the field, the value and the rule (docs/protocol.md, "Enqueue a job"). Pure logic: no Redis, no fork.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/file_name.h"
#include "common/quote.h"  // quote_value: how every sentence shows a value

namespace hutch {

using StreamFields = std::vector<std::pair<std::string, std::string>>;

struct JobDefaults {
  double timeout_seconds = 5.0;
  uint64_t memory_bytes = 256ULL << 20;
  double cpu_cores = 1.0;
};

inline constexpr double kMaxTimeoutSeconds = 300.0;
inline constexpr uint64_t kMinMemoryBytes = 4ULL << 20;
inline constexpr uint64_t kMaxMemoryBytes = 64ULL << 30;
inline constexpr double kMinCpuCores = 0.01;
inline constexpr double kMaxCpuCores = 256.0;
inline constexpr size_t kMaxInputBytes = 1 << 20;
inline constexpr size_t kMaxJobFiles = 100;
inline constexpr size_t kMaxKeyBytes = 1024;

// One entry of the job field `files`: the sandbox sees the value of Redis key `key` as $HUTCH_IN/<name>.
struct JobFile {
  std::string name;
  std::string key;
};

struct Job {
  std::string id;              // stream entry id = execution id
  int64_t enqueued_at_ms = 0;  // from the id
  std::string function;
  std::string input = "null";  // JSON text
  double timeout_seconds = 0;
  uint64_t memory_bytes = 0;
  double cpu_cores = 0;
  // Whether the job set them itself: a user function's own defaults apply only where it did not.
  bool timeout_given = false;
  bool memory_given = false;
  bool cpu_given = false;
  std::vector<JobFile> files;      // sorted by name
  std::string files_json;          // the field as sent, for the record; empty when absent
  std::string output_prefix;       // output file <name> is stored as <output_prefix>/<name>
  int attempt = 1;                 // the entry's delivery count in the consumer group (queue/delivery_scripts.h)
};

struct ParsedJob {
  Job job;                               // best effort even when rejected: the record shows what was sent
  std::optional<std::string> rejection;  // the first problem found, as a sentence
};

struct FunctionCatalog {
  std::function<bool(const std::string &)> exists;
  std::function<std::vector<std::string>()> names;
};

ParsedJob parse_job(const std::string &id, const StreamFields &fields, const FunctionCatalog &functions,
                    const JobDefaults &defaults = {});

// Value parsers, exposed for flags and tests. nullopt when the text is not of the form.
std::optional<double> parse_decimal(const std::string &text);        // "5", "2.5", "-1"; not "1e3", "inf"
std::optional<uint64_t> parse_size_bytes(const std::string &text);   // "256M", "1G", "4096", "512k"

// The ms part of a stream id ("1700000000000-3" -> 1700000000000); nullopt when not an id.
std::optional<int64_t> stream_id_milliseconds(const std::string &id);


}  // namespace hutch
