#include "queue/job.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "queue/keys.h"

namespace hutch {
namespace {

std::string joined(const std::vector<std::string> &names) {
  std::string out;
  for (const std::string &name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

const std::string kTimeoutRule = "use seconds > 0 and <= 300, e.g. 5 or 2.5";
const std::string kMemoryRule = "use bytes with an optional K, M or G suffix, from 4M to 64G, e.g. 256M";
const std::string kCpuRule = "use cores from 0.01 to 256, e.g. 0.5 or 2";

std::optional<std::string> check_timeout(const std::string &text, Job &job) {
  auto value = parse_decimal(text);
  std::string field(keys::job::kTimeout);
  if (!value) return field + ": " + quote_value(text) + " is not a number; " + kTimeoutRule;
  if (*value <= 0 || *value > kMaxTimeoutSeconds) return field + ": " + quote_value(text) + " is out of range; " + kTimeoutRule;
  job.timeout_seconds = *value;
  return std::nullopt;
}

std::optional<std::string> check_memory(const std::string &text, Job &job) {
  auto value = parse_size_bytes(text);
  std::string field(keys::job::kMemory);
  if (!value) return field + ": " + quote_value(text) + " is not a size; " + kMemoryRule;
  if (*value < kMinMemoryBytes || *value > kMaxMemoryBytes) return field + ": " + quote_value(text) + " is out of range; " + kMemoryRule;
  job.memory_bytes = *value;
  return std::nullopt;
}

std::optional<std::string> check_cpu(const std::string &text, Job &job) {
  auto value = parse_decimal(text);
  std::string field(keys::job::kCpu);
  if (!value) return field + ": " + quote_value(text) + " is not a number; " + kCpuRule;
  if (*value < kMinCpuCores || *value > kMaxCpuCores) return field + ": " + quote_value(text) + " is out of range; " + kCpuRule;
  job.cpu_cores = *value;
  return std::nullopt;
}

// nlohmann's parser stops at a NUL byte as at the end of the text, so it accepts `{"a":1}\0anything`. JSON
// text never holds a raw NUL (inside a string it must be written \u0000): refuse it before parsing.
bool is_json_text(const std::string &text) {
  return text.find('\0') == std::string::npos && nlohmann::json::accept(text);
}

std::optional<std::string> check_input(const std::string &text, Job &job) {
  job.input = text;
  std::string field(keys::job::kInput);
  if (text.size() > kMaxInputBytes)
    return field + ": " + std::to_string(text.size()) + " bytes is too large; the limit is 1 MiB (1048576 bytes)";
  if (!is_json_text(text)) return field + ": " + quote_value(text) + " is not valid JSON; send JSON text, e.g. {\"name\":\"Ada\"}";
  return std::nullopt;
}

// Outside hutch: any key (Redis' ACL, if any, decides what hutchd may read); under it only uploads and
// earlier outputs, which a submitter may read anyway.
bool may_be_input_key(const std::string &key) {
  return !key.starts_with(keys::kReservedPrefix) || key.starts_with(keys::kUploadPrefix) ||
         key.starts_with(keys::kOutputPrefix);
}

std::optional<std::string> check_files(const std::string &text, Job &job) {
  job.files_json = text;
  std::string field(keys::job::kFiles);
  const std::string shape = "give a JSON object mapping a file name to a Redis key, e.g. {\"photo.jpg\":\"img:1\"}";
  auto parsed = is_json_text(text) ? nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false)
                                   : nlohmann::json(nlohmann::json::value_t::discarded);
  if (parsed.is_discarded()) return field + ": " + quote_value(text) + " is not valid JSON; " + shape;
  if (!parsed.is_object()) return field + ": " + quote_value(text) + " is not a JSON object; " + shape;
  if (parsed.size() > kMaxJobFiles)
    return field + ": " + std::to_string(parsed.size()) + " files is too many; at most " + std::to_string(kMaxJobFiles);
  for (const auto &[name, key] : parsed.items()) {
    if (!is_valid_file_name(name)) return field + ": file name " + quote_value(name) + " is not allowed; " + kFileNameRule;
    if (!key.is_string()) return field + ": the key of " + quote_value(name) + " is not a string; " + shape;
    const std::string &key_text = key.get_ref<const std::string &>();
    if (key_text.empty() || key_text.size() > kMaxKeyBytes)
      return field + ": the key of " + quote_value(name) + " must be 1-1024 bytes long";
    if (!may_be_input_key(key_text))
      return field + ": the key of " + quote_value(name) + " is " + quote_value(key_text) +
             ", one of hutch's own keys; input files under hutch: must be under hutch:upload: or hutch:out: (an "
             "upload, or an earlier execution's output); store the file first, e.g. hutch put img:1 " + name;
    job.files.push_back({name, key_text});
  }
  return std::nullopt;
}

std::optional<std::string> check_out(const std::string &text, Job &job) {
  job.output_prefix = text;
  std::string field(keys::job::kOut);
  bool printable = std::all_of(text.begin(), text.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
  if (text.empty() || text.size() > kMaxKeyBytes - kMaxFileNameBytes - 1 || !printable)
    return field + ": " + quote_value(text) +
           " is not a usable key prefix; use 1-768 printable characters without spaces, e.g. results:42";
  // hutchd writes the output keys with its own rights, which reach hutch:out:<every id> and hutch's other keys.
  if (text.starts_with(keys::kReservedPrefix) && text != keys::default_output_prefix(job.id))
    return field + ": " + quote_value(text) +
           " is under hutch:, whose keys are hutch's own; the only prefix allowed there is the job's default, "
           "hutch:out:<its id>: leave out out for it, or use a prefix of your own, e.g. results:42";
  return std::nullopt;
}

std::optional<std::string> check_function(const std::string &text, const FunctionCatalog &functions, Job &job) {
  job.function = text;
  if (functions.exists(text)) return std::nullopt;
  return std::string(keys::job::kFunction) + ": " + quote_value(text) + " is not a known function; known functions are " +
         joined(functions.names());
}

}  // namespace

ParsedJob parse_job(const std::string &id, const StreamFields &fields, const FunctionCatalog &functions,
                    const JobDefaults &defaults) {
  ParsedJob parsed;
  Job &job = parsed.job;
  job.id = id;
  job.enqueued_at_ms = stream_id_milliseconds(id).value_or(0);
  job.timeout_seconds = defaults.timeout_seconds;
  job.memory_bytes = defaults.memory_bytes;
  job.cpu_cores = defaults.cpu_cores;

  auto reject = [&](std::optional<std::string> problem) {
    if (problem && !parsed.rejection) parsed.rejection = std::move(problem);
  };
  std::set<std::string> seen;
  bool has_function = false;
  for (const auto &[name, value] : fields) {
    if (!seen.insert(name).second) {
      reject("field " + quote_value(name) + " is given twice; give each field once");
      continue;
    }
    if (name == keys::job::kFunction) {
      has_function = true;
      reject(check_function(value, functions, job));
    } else if (name == keys::job::kInput) {
      reject(check_input(value, job));
    } else if (name == keys::job::kTimeout) {
      job.timeout_given = true;
      reject(check_timeout(value, job));
    } else if (name == keys::job::kMemory) {
      job.memory_given = true;
      reject(check_memory(value, job));
    } else if (name == keys::job::kCpu) {
      job.cpu_given = true;
      reject(check_cpu(value, job));
    } else if (name == keys::job::kFiles) {
      reject(check_files(value, job));
    } else if (name == keys::job::kOut) {
      reject(check_out(value, job));
    } else {
      reject("unknown field " + quote_value(name) +
             "; the fields are function, input, timeout, memory, cpu, files and out");
    }
  }
  if (job.output_prefix.empty()) job.output_prefix = keys::default_output_prefix(id);
  if (!has_function) {
    // Missing function is the most basic problem: it wins over any other.
    parsed.rejection = "function: missing; name the function to run, e.g. function hello (known functions are " +
                       joined(functions.names()) + ")";
  }
  return parsed;
}

std::optional<double> parse_decimal(const std::string &text) {
  // Strict: optional minus, digits, optional fraction. No exponent, hex, inf, nan or spaces.
  size_t i = 0;
  if (i < text.size() && text[i] == '-') ++i;
  size_t digits = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++digits;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++digits;
  }
  if (digits == 0 || i != text.size() || text.size() > 32) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<uint64_t> parse_size_bytes(const std::string &text) {
  if (text.empty() || text.size() > 24) return std::nullopt;
  uint64_t multiplier = 1;
  std::string digits = text;
  switch (text.back()) {
    case 'K': case 'k': multiplier = 1ULL << 10; digits.pop_back(); break;
    case 'M': case 'm': multiplier = 1ULL << 20; digits.pop_back(); break;
    case 'G': case 'g': multiplier = 1ULL << 30; digits.pop_back(); break;
    default: break;
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  if (value > UINT64_MAX / multiplier) return std::nullopt;
  return value * multiplier;
}

std::optional<int64_t> stream_id_milliseconds(const std::string &id) {
  auto dash = id.find('-');
  std::string ms = id.substr(0, dash);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(ms.data(), ms.data() + ms.size(), value);
  if (ms.empty() || ec != std::errc() || end != ms.data() + ms.size()) return std::nullopt;
  return value;
}

}  // namespace hutch
