#include "queue/job_files.h"

#include <nlohmann/json.hpp>

#include "queue/outcome.h"

namespace hutch {
namespace {

// KEYS: the job's input keys. ARGV: per-file cap, per-job cap. Answers {"ok", value...} or a refusal:
// {"missing", index}, {"type", index, type}, {"file", index, bytes}, {"job", total bytes}.
constexpr const char kFetchScript[] = R"lua(
local total = 0
for i, key in ipairs(KEYS) do
  local kind = redis.call('TYPE', key).ok
  if kind == 'none' then return {'missing', i} end
  if kind ~= 'string' then return {'type', i, kind} end
  local bytes = redis.call('STRLEN', key)
  if bytes > tonumber(ARGV[1]) then return {'file', i, bytes} end
  total = total + bytes
end
if total > tonumber(ARGV[2]) then return {'job', total} end
local answer = {'ok'}
for i, key in ipairs(KEYS) do answer[#answer + 1] = redis.call('GET', key) end
return answer
)lua";

std::string element_text(const redisReply *reply, size_t index) {
  if (reply == nullptr || index >= reply->elements) return {};
  const redisReply *element = reply->element[index];
  if (element->type != REDIS_REPLY_STRING && element->type != REDIS_REPLY_STATUS) return {};
  return std::string(element->str, element->len);
}

long long element_integer(const redisReply *reply, size_t index) {
  if (reply == nullptr || index >= reply->elements) return -1;
  const redisReply *element = reply->element[index];
  return element->type == REDIS_REPLY_INTEGER ? element->integer : -1;
}

}  // namespace

Command fetch_files_command(const Job &job, const FileCaps &caps) {
  // EVAL_RO: EVAL asks write permission on every key it is given (Redis 7 ACLs), and hutchd's user may
  // only read uploads and outputs; the script only reads.
  Command eval{"EVAL_RO", kFetchScript, std::to_string(job.files.size())};
  for (const JobFile &file : job.files) eval.push_back(file.key);
  eval.push_back(std::to_string(caps.per_file_bytes));
  eval.push_back(std::to_string(caps.per_job_bytes));
  return eval;
}

std::variant<FetchedFiles, FetchRefusal> parse_fetch_reply(const redisReply *reply, const Job &job,
                                                            const FileCaps &caps) {
  const FetchRefusal unexpected{"files: Redis answered the read of the input files with something unexpected", false};
  if (reply == nullptr) return FetchRefusal{"files: Redis did not answer while the input files were read", false};
  if (reply->type == REDIS_REPLY_ERROR) {
    std::string error(reply->str, reply->len);
    if (error.starts_with("NOPERM"))
      return FetchRefusal{"files: Redis does not let hutchd read these keys (" + error + "); under an ACL, input "
                          "files must be uploads (hutch:upload:...), earlier outputs (hutch:out:...) or keys under a "
                          "data prefix of the ACL (hutch acl --data-prefix)"};
    return FetchRefusal{"files: Redis refused to read the input files: " + error, false};
  }
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) return unexpected;
  std::string verdict = element_text(reply, 0);
  auto file_at = [&](long long one_based) -> const JobFile * {
    if (one_based < 1 || static_cast<size_t>(one_based) > job.files.size()) return nullptr;
    return &job.files[static_cast<size_t>(one_based - 1)];
  };
  auto named = [](const JobFile &file) { return "key " + quote_value(file.key) + " (file " + quote_value(file.name) + ")"; };
  if (verdict == "ok" && reply->elements == job.files.size() + 1) {
    FetchedFiles fetched;
    for (size_t i = 1; i < reply->elements; ++i) {
      const redisReply *value = reply->element[i];
      if (value->type != REDIS_REPLY_STRING)
        return FetchRefusal{"files: " + named(job.files[i - 1]) + " did not read back as a string", false};
      fetched.contents.emplace_back(value->str, value->len);
    }
    return fetched;
  }
  const JobFile *file = file_at(element_integer(reply, 1));
  if (verdict == "missing" && file != nullptr)
    return FetchRefusal{"files: " + named(*file) + " does not exist; store the file first, e.g. hutch put " +
                        file->key + " " + file->name};
  if (verdict == "type" && file != nullptr)
    return FetchRefusal{"files: " + named(*file) + " holds a " + element_text(reply, 2) +
                        ", not a string; a file must be a plain string value (SET, or hutch put)"};
  if (verdict == "file" && file != nullptr) {
    auto bytes = static_cast<uint64_t>(element_integer(reply, 2));
    return FetchRefusal{"files: " + named(*file) + " holds " + std::to_string(bytes) + " bytes; at most " +
                        describe_bytes(caps.per_file_bytes) + " per file"};
  }
  if (verdict == "job") {
    auto bytes = static_cast<uint64_t>(element_integer(reply, 1));
    return FetchRefusal{"files: the input files hold " + std::to_string(bytes) + " bytes together; at most " +
                        describe_bytes(caps.per_job_bytes) + " per job"};
  }
  return unexpected;
}

std::vector<Command> store_output_commands(const Job &job, std::vector<OutputFile> files, int64_t retention_ms) {
  std::vector<Command> commands;
  for (OutputFile &file : files) {
    commands.push_back({"SET", job.output_prefix + "/" + file.name, std::move(file.content)});
    if (retention_ms > 0) commands.back().insert(commands.back().end(), {"PX", std::to_string(retention_ms)});
  }
  return commands;
}

std::string files_out_json(const Job &job, const std::vector<OutputFile> &files) {
  nlohmann::json list = nlohmann::json::array();
  for (const OutputFile &file : files) {
    list.push_back({{"name", file.name}, {"key", job.output_prefix + "/" + file.name}, {"bytes", file.content.size()}});
  }
  return list.dump();
}

}  // namespace hutch
