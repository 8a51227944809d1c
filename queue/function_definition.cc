#include "queue/function_definition.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <iterator>

#include "common/quote.h"
#include "common/sha256.h"
#include "functions/builtin_names.h"
#include "queue/job.h"

namespace hutch {
namespace {

std::string number_text(double value) {
  char buffer[32];
  snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

const std::string *find(const FieldPairs &fields, const std::string &name) {
  for (const auto &[field, value] : fields) {
    if (field == name) return &value;
  }
  return nullptr;
}

// Every field a definition may have, in the order docs/protocol.md lists them.
constexpr const char *kFieldNames[] = {"name",    "entry",   "package_sha256", "package_bytes", "description",
                                       "package", "function", "timeout",       "memory",        "cpu",
                                       "created_at", "updated_at", "executions"};
constexpr const char kNameRule[] = "use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit";

std::string field_list() {
  std::string list;
  for (const char *name : kFieldNames) list += (list.empty() ? "" : ", ") + std::string(name);
  return list;
}

// Decimal digits only (no sign, no space), at most 19 of them.
std::optional<uint64_t> parse_count(const std::string &text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "2026-11-21T23:30:47.123Z", the shape records use (queue/record.h).
bool is_utc_timestamp(const std::string &text) {
  static constexpr char kShape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (text.size() != sizeof kShape - 1) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    bool ok = kShape[i] == 'd' ? (text[i] >= '0' && text[i] <= '9') : text[i] == kShape[i];
    if (!ok) return false;
  }
  return true;
}

// Printable text of at most `most` bytes (a newline in an entry would forge a line of hutchd's log).
Status check_text(const char *field, const std::string &text, size_t most) {
  if (text.size() > most)
    return fail(make_error(std::string(field) + " is " + std::to_string(text.size()) + " bytes; at most " + std::to_string(most)));
  if (has_control_characters(text))
    return fail(make_error(std::string(field) + " " + quote_value(text) + " holds control characters; use printable text"));
  return {};
}

std::string element_text(const redisReply *reply, size_t index) {
  if (index >= reply->elements || reply->element[index]->type != REDIS_REPLY_STRING) return "";
  return std::string(reply->element[index]->str, reply->element[index]->len);
}

std::string element_number(const redisReply *reply, size_t index) {
  if (index >= reply->elements || reply->element[index]->type != REDIS_REPLY_INTEGER) return "?";
  return std::to_string(reply->element[index]->integer);
}

// The first element of a script's reply ("ok", or what was wrong); an error for a Redis error reply.
Result<std::string> reply_tag(const std::string &key, const redisReply *reply) {
  if (reply == nullptr) return fail(make_error(key + " could not be read: no reply from Redis"));
  if (reply->type == REDIS_REPLY_ERROR)
    return fail(make_error(key + " could not be read: " + quote_value(std::string(reply->str, reply->len))));
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) return fail(make_error(key + " could not be read: an unexpected reply"));
  return element_text(reply, 0);
}

}  // namespace

FieldPairs definition_fields(const FunctionDefinition &d) {
  FieldPairs fields{{"name", d.name},
                    {"entry", d.entry},
                    {"package_sha256", d.package_sha256},
                    {"package_bytes", std::to_string(d.package_bytes)},
                    {"description", d.description},
                    {"function", d.function},
                    {"created_at", d.created_at},
                    {"updated_at", d.updated_at}};
  if (!d.package.empty()) fields.emplace_back("package", d.package);
  if (d.timeout_seconds) fields.emplace_back("timeout", number_text(*d.timeout_seconds));
  if (d.memory_bytes) fields.emplace_back("memory", std::to_string(*d.memory_bytes));
  if (d.cpu_cores) fields.emplace_back("cpu", number_text(*d.cpu_cores));
  return fields;
}

Result<FunctionDefinition> definition_from_fields(const FieldPairs &fields, const std::string &key_name) {
  const std::string key = keys::function_definition(key_name);
  auto problem = [&](const std::string &sentence) { return fail(make_error(key + ": " + sentence)); };
  for (const auto &[field, value] : fields) {
    if (std::find(std::begin(kFieldNames), std::end(kFieldNames), field) == std::end(kFieldNames))
      return problem("unknown field " + quote_value(field) + "; a definition has " + field_list());
  }
  FunctionDefinition d;
  for (const char *name : {"name", "entry", "package_sha256", "package_bytes"}) {
    const std::string *value = find(fields, name);
    if (value == nullptr || value->empty()) return problem(std::string(name) + " is missing");
  }
  for (auto [name, target] : {std::pair{"name", &d.name}, std::pair{"entry", &d.entry},
                              std::pair{"package_sha256", &d.package_sha256}, std::pair{"description", &d.description},
                              std::pair{"package", &d.package}, std::pair{"function", &d.function},
                              std::pair{"created_at", &d.created_at}, std::pair{"updated_at", &d.updated_at}}) {
    if (const std::string *value = find(fields, name)) *target = *value;
  }
  if (d.function.empty()) d.function = d.name;
  const std::string &bytes = *find(fields, "package_bytes");
  auto parsed_bytes = parse_count(bytes);
  if (!parsed_bytes || *parsed_bytes == 0 || *parsed_bytes > kMaxPackageBytes)
    return problem("package_bytes " + quote_value(bytes) + " is not a number of bytes from 1 to " +
                   std::to_string(kMaxPackageBytes) + " (64 MiB)");
  d.package_bytes = *parsed_bytes;
  // Where hutch counted executions before issue 10 (now hutch:fn-executions, which hutchd may write): older
  // definitions still carry it until their next update, so it stays a known field with its rule, unread.
  if (const std::string *value = find(fields, "executions")) {
    auto count = parse_count(*value);
    if (!count || *count > static_cast<uint64_t>(INT64_MAX)) return problem("executions " + quote_value(*value) + " is not a count");
  }
  auto with_key = [&](auto parsed) -> decltype(parsed) {
    if (!parsed) return fail(parsed.error().context(key));
    return parsed;
  };
  if (const std::string *value = find(fields, "timeout")) {
    TRY_ASSIGN(d.timeout_seconds, with_key(parse_timeout_default("timeout", *value)));
  }
  if (const std::string *value = find(fields, "memory")) {
    TRY_ASSIGN(d.memory_bytes, with_key(parse_memory_default("memory", *value)));
  }
  if (const std::string *value = find(fields, "cpu")) {
    TRY_ASSIGN(d.cpu_cores, with_key(parse_cpu_default("cpu", *value)));
  }
  if (d.name != key_name) return problem("name " + quote_value(d.name) + " is not the key's name " + quote_value(key_name));
  TRY_STATUS(with_key(check_definition(d)));
  return d;
}

Status check_definition(const FunctionDefinition &d) {
  auto problem = [](const std::string &sentence) { return fail(make_error(sentence)); };
  if (!is_valid_function_name(d.name)) return problem("name " + quote_value(d.name) + " is not a function name; " + kNameRule);
  TRY_STATUS(check_text("entry", d.entry, kMaxEntryBytes));
  TRY_ASSIGN(std::vector<std::string> words, split_entry(d.entry));
  (void)words;  // only whether it splits: the program is found where it runs (catalog/entry_program.h)
  if (!is_sha256_hex(d.package_sha256))
    return problem("package_sha256 " + quote_value(d.package_sha256) + " is not a SHA-256 (64 lowercase hex digits)");
  if (d.package_bytes == 0 || d.package_bytes > kMaxPackageBytes)
    return problem("package_bytes '" + std::to_string(d.package_bytes) + "' is not a number of bytes from 1 to " +
                   std::to_string(kMaxPackageBytes) + " (64 MiB)");
  TRY_STATUS(check_text("description", d.description, kMaxDescriptionBytes));
  if (!d.package.empty() && !is_valid_function_name(d.package))
    return problem("package " + quote_value(d.package) + " is not a package name; " + kNameRule);
  if (!is_valid_function_name(d.function))
    return problem("function " + quote_value(d.function) + " is not a function name; " + kNameRule);
  for (auto [name, value] : {std::pair{"created_at", &d.created_at}, std::pair{"updated_at", &d.updated_at}}) {
    if (!value->empty() && !is_utc_timestamp(*value))
      return problem(std::string(name) + " " + quote_value(*value) + " is not a UTC time like 2026-11-21T23:30:47.123Z");
  }
  return {};
}

// Sizes before bytes, in Redis: the hash's type, field count, field name lengths and value lengths first.
// ARGV: the most fields, the longest value.
constexpr const char *kReadDefinition = R"lua(
local key, most_fields, longest = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
local kind = redis.call('TYPE', key).ok
if kind == 'none' then return {'ok'} end
if kind ~= 'hash' then return {'type', kind} end
local count = redis.call('HLEN', key)
if count > most_fields then return {'fields', count} end
for _, field in ipairs(redis.call('HKEYS', key)) do
  if #field > 64 then return {'name', #field} end
  local size = redis.call('HSTRLEN', key, field)
  if size > longest then return {'field', field, size} end
end
return {'ok', unpack(redis.call('HGETALL', key))}
)lua";

// ARGV: the largest blob.
constexpr const char *kReadBlob = R"lua(
local key, largest = KEYS[1], tonumber(ARGV[1])
local kind = redis.call('TYPE', key).ok
if kind == 'none' then return {'missing'} end
if kind ~= 'string' then return {'type', kind} end
local size = redis.call('STRLEN', key)
if size > largest then return {'size', size} end
return {'ok', redis.call('GET', key)}
)lua";

// EVAL_RO: the scripts only read, and Redis 7 asks EVAL for write rights on every key it is given, which
// hutchd's user does not have on definitions and code (docs/security.md, "Roles").
Command read_definition_command(const std::string &name) {
  return {"EVAL_RO", kReadDefinition, "1", keys::function_definition(name), std::to_string(kMaxDefinitionFields),
          std::to_string(kMaxDefinitionFieldBytes)};
}

Result<std::optional<FieldPairs>> parse_definition_reply(const std::string &name, const redisReply *reply) {
  const std::string key = keys::function_definition(name);
  auto problem = [&](const std::string &sentence) { return fail(make_error(key + sentence)); };
  auto tagged = reply_tag(key, reply);
  if (!tagged) return fail(tagged.error());
  const std::string &tag = *tagged;
  const size_t count = reply->elements;
  if (tag == "type") return problem(" is a " + element_text(reply, 1) + ", not a hash");
  if (tag == "fields")
    return problem(" has " + element_number(reply, 1) + " fields; a definition has at most " +
                   std::to_string(kMaxDefinitionFields));
  if (tag == "name") return problem(" has a field name of " + element_number(reply, 1) + " bytes; no field name is longer than 64");
  if (tag == "field") {
    std::string field = element_text(reply, 1);
    bool known = std::find(std::begin(kFieldNames), std::end(kFieldNames), field) != std::end(kFieldNames);
    return problem(": " + (known ? field : quote_value(field)) + " is " + element_number(reply, 2) +
                   " bytes; no field of a definition is longer than " + std::to_string(kMaxDefinitionFieldBytes));
  }
  if (tag != "ok" || count % 2 == 0) return problem(" could not be read: an unexpected reply");
  if (count == 1) return std::optional<FieldPairs>{};
  FieldPairs pairs;
  for (size_t i = 1; i + 1 < count; i += 2) pairs.emplace_back(element_text(reply, i), element_text(reply, i + 1));
  return std::optional<FieldPairs>{std::move(pairs)};
}

Command read_blob_command(const std::string &sha256) {
  return {"EVAL_RO", kReadBlob, "1", keys::package_blob(sha256), std::to_string(kMaxPackageBytes)};
}

Result<std::string> parse_blob_reply(const std::string &sha256, const redisReply *reply) {
  const std::string key = keys::package_blob(sha256);
  const std::string advice = "; update the function with its code again";
  auto tagged = reply_tag(key, reply);
  if (!tagged) return fail(tagged.error());
  const std::string &tag = *tagged;
  if (tag == "missing") return fail(make_error(key + " is missing from Redis" + advice));
  if (tag == "type") return fail(make_error(key + " is a " + element_text(reply, 1) + ", not a string" + advice));
  if (tag == "size")
    return fail(make_error(key + " is " + element_number(reply, 1) + " bytes, more than the 64 MiB a package may have" + advice));
  if (tag != "ok" || reply->elements != 2 || reply->element[1]->type != REDIS_REPLY_STRING)
    return fail(make_error(key + " could not be read: an unexpected reply"));
  return std::string(reply->element[1]->str, reply->element[1]->len);
}

Result<std::vector<std::string>> split_entry(const std::string &entry) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < entry.size(); ++i) {
    char c = entry[i];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < entry.size() && (entry[i + 1] == '"' || entry[i + 1] == '\\')) {
        word.push_back(entry[++i]);
      } else {
        word.push_back(c);
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < entry.size()) {
      word.push_back(entry[++i]);
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word.push_back(c);
      in_word = true;
    }
  }
  if (quote != 0)
    return fail(make_error("entry: " + quote_value(entry) + " has an unclosed " + (quote == '"' ? "\"" : "'") + " quote"));
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) return fail(make_error("entry: empty; give the command that runs the function, e.g. 'python3 main.py'"));
  return words;
}

// The job field's own rules (queue/job.cc), so a default can never be something a job could not ask for.
Result<double> parse_timeout_default(const std::string &flag, const std::string &text) {
  ParsedJob parsed = parse_job("0-0", {{"function", "f"}, {"timeout", text}},
                               {.exists = [](const std::string &) { return true; }, .names = {}});
  if (parsed.rejection) return fail(make_error(flag + parsed.rejection->substr(parsed.rejection->find(':'))));
  return parsed.job.timeout_seconds;
}

Result<uint64_t> parse_memory_default(const std::string &flag, const std::string &text) {
  ParsedJob parsed = parse_job("0-0", {{"function", "f"}, {"memory", text}},
                               {.exists = [](const std::string &) { return true; }, .names = {}});
  if (parsed.rejection) return fail(make_error(flag + parsed.rejection->substr(parsed.rejection->find(':'))));
  return parsed.job.memory_bytes;
}

Result<double> parse_cpu_default(const std::string &flag, const std::string &text) {
  ParsedJob parsed = parse_job("0-0", {{"function", "f"}, {"cpu", text}},
                               {.exists = [](const std::string &) { return true; }, .names = {}});
  if (parsed.rejection) return fail(make_error(flag + parsed.rejection->substr(parsed.rejection->find(':'))));
  return parsed.job.cpu_cores;
}

}  // namespace hutch
