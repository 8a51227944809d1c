#include "cli/function_store.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "catalog/entry_program.h"
#include "catalog/registry.h"
#include "common/quote.h"
#include "common/sha256.h"
#include "queue/record.h"

namespace hutch::cli {

Result<Code> load_code(const std::string &path, bool single_file) {
  TRY_ASSIGN(std::vector<PackageEntry> entries, read_package_source(path, single_file));
  if (entries.empty()) return fail(make_error("'" + path + "' holds no files"));
  std::vector<PackageEntry> copy = entries;
  TRY_ASSIGN(std::string archive, write_package_archive(std::move(copy)));
  std::string sha256 = sha256_hex(archive);
  return Code{std::move(archive), std::move(entries), std::move(sha256)};
}

Status apply_defaults(FunctionDefinition &definition, const std::optional<std::string> &timeout,
                      const std::optional<std::string> &memory, const std::optional<std::string> &cpu,
                      const std::string &prefix) {
  if (timeout) {
    TRY_ASSIGN(definition.timeout_seconds, parse_timeout_default(prefix + "timeout", *timeout));
  }
  if (memory) {
    TRY_ASSIGN(definition.memory_bytes, parse_memory_default(prefix + "memory", *memory));
  }
  if (cpu) {
    TRY_ASSIGN(definition.cpu_cores, parse_cpu_default(prefix + "cpu", *cpu));
  }
  return {};
}

Status check_entry(const std::string &entry, const std::vector<PackageEntry> &entries) {
  auto checked = [&]() -> Status {
    TRY_ASSIGN(std::vector<std::string> words, split_entry(entry));
    std::string program = words[0].starts_with("./") ? words[0].substr(2) : words[0];
    for (const PackageEntry &file : entries) {
      if (file.directory || file.path != program) continue;
      if (!file.executable)
        return fail(make_error(quote_value(program) + " is in the package but not executable; chmod +x it, or run it "
                               "with its interpreter, e.g. 'python3 " + program + "'"));
      return {};
    }
    // The same search hutchd makes where the function runs (catalog/entry_program.h).
    TRY_ASSIGN(std::string found, resolve_usr_program(words[0]));
    (void)found;
    return {};
  }();
  if (!checked) return fail(checked.error().context("entry " + quote_value(entry)));
  return {};
}

Status check_user_function_name(const std::string &name) {
  if (!is_valid_function_name(name))
    return fail(make_error("'" + name + "' is not a function name; use 1-64 letters, digits, '_', '.' or '-', "
                           "starting with a letter or digit"));
  const auto &builtins = builtin_function_names();
  const auto &images = image_function_names();
  if (std::find(builtins.begin(), builtins.end(), name) != builtins.end() ||
      std::find(images.begin(), images.end(), name) != images.end())
    return fail(make_error("'" + name + "' is a built-in function; a user function cannot replace it, choose another name"));
  return {};
}

// The CLI reads definitions and code with plain commands, not with the scripts hutchd uses: running a script
// (EVAL_RO) is a Redis permission to run any Lua, whose busy loop stalls Redis for everyone, and the reading
// roles must not hold it (docs/security.md, "Roles"). The sizes are still checked before the values are
// read, with hutchd's rules and sentences; a key changed between the check and the read can only cost this
// short-lived process memory, never hutchd's.
namespace {

Result<std::optional<FieldPairs>> read_definition_fields(RedisClient &redis, const std::string &name) {
  const std::string key = keys::function_definition(name);
  TRY_STATUS(redis.append({"TYPE", key}));
  TRY_STATUS(redis.append({"HLEN", key}));
  TRY_ASSIGN(Reply type, redis.next_reply());
  TRY_ASSIGN(Reply length, redis.next_reply());
  const std::string kind = reply_text(type.get());
  if (kind == "none") return std::optional<FieldPairs>{};
  if (kind != "hash") return fail(make_error(key + " is a " + kind + ", not a hash"));
  if (static_cast<size_t>(length->integer) > kMaxDefinitionFields)
    return fail(make_error(key + " has " + std::to_string(length->integer) + " fields; a definition has at most " +
                           std::to_string(kMaxDefinitionFields)));
  TRY_ASSIGN(Reply fields, redis.command({"HKEYS", key}));
  std::vector<std::string> names;
  for (size_t i = 0; fields->type == REDIS_REPLY_ARRAY && i < fields->elements; ++i) {
    names.push_back(reply_text(fields->element[i]));
    if (names.back().size() > 64)
      return fail(make_error(key + " has a field name of " + std::to_string(names.back().size()) +
                             " bytes; no field name is longer than 64"));
  }
  for (const std::string &field : names) TRY_STATUS(redis.append({"HSTRLEN", key, field}));
  for (const std::string &field : names) {
    TRY_ASSIGN(Reply size, redis.next_reply());
    if (static_cast<size_t>(size->integer) > kMaxDefinitionFieldBytes)
      return fail(make_error(key + ": " + quote_value(field) + " is " + std::to_string(size->integer) +
                             " bytes; no field of a definition is longer than " + std::to_string(kMaxDefinitionFieldBytes)));
  }
  TRY_ASSIGN(Reply all, redis.command({"HGETALL", key}));
  FieldList pairs = reply_field_pairs(all.get());
  if (pairs.empty()) return std::optional<FieldPairs>{};  // deleted meanwhile
  return std::optional<FieldPairs>{FieldPairs(pairs.begin(), pairs.end())};
}

}  // namespace

Result<std::optional<FunctionDefinition>> load_definition(RedisClient &redis, const std::string &name) {
  auto read = [&]() -> Result<std::optional<FunctionDefinition>> {
    TRY_ASSIGN(std::optional<FieldPairs> pairs, read_definition_fields(redis, name));
    if (!pairs) return std::optional<FunctionDefinition>{};
    TRY_ASSIGN(FunctionDefinition definition, definition_from_fields(*pairs, name));
    return std::optional<FunctionDefinition>{std::move(definition)};
  }();
  if (!read) return fail(read.error().context("function " + quote_value(name)));
  if (*read) {
    // The count lives beside the definition (hutch:fn-executions), written by hutchd; anything but a count
    // there reads as none.
    TRY_ASSIGN(Reply count, redis.command({"HGET", keys::kFunctionExecutions, name}));
    std::string text = reply_text(count.get());
    bool is_count = !text.empty() && text.size() <= 18 &&
                    std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    (*read)->executions = is_count ? std::strtoll(text.c_str(), nullptr, 10) : 0;
  }
  return read;
}

Result<std::string> load_blob(RedisClient &redis, const std::string &sha256) {
  const std::string key = keys::package_blob(sha256);
  const std::string advice = "; update the function with its code again";
  TRY_STATUS(redis.append({"TYPE", key}));
  TRY_STATUS(redis.append({"STRLEN", key}));
  TRY_ASSIGN(Reply type, redis.next_reply());
  TRY_ASSIGN(Reply length, redis.next_reply());
  const std::string kind = reply_text(type.get());
  if (kind == "none") return fail(make_error(key + " is missing from Redis" + advice));
  if (kind != "string") return fail(make_error(key + " is a " + kind + ", not a string" + advice));
  if (static_cast<uint64_t>(length->integer) > kMaxPackageBytes)
    return fail(make_error(key + " is " + std::to_string(length->integer) + " bytes, more than the 64 MiB a package may have" + advice));
  TRY_ASSIGN(Reply blob, redis.command({"GET", key}));
  if (reply_is_nil(blob.get())) return fail(make_error(key + " is missing from Redis" + advice));
  return reply_text(blob.get());
}

Status store_definition(RedisClient &redis, const FunctionDefinition &definition, const Code *code) {
  std::string key = keys::function_definition(definition.name);
  // What hutchd will accept when it reads the definition back, with the sentences it would give.
  if (auto checked = check_definition(definition); !checked) return fail(checked.error().context(key));
  // The execution count (hutch:fn-executions) is not part of the definition: it survives updates.
  std::vector<std::vector<std::string>> commands{{"MULTI"}};
  if (code != nullptr) commands.push_back({"SET", keys::package_blob(code->sha256), code->archive});
  commands.push_back({"DEL", key});
  std::vector<std::string> hset{"HSET", key};
  for (const auto &[field, value] : definition_fields(definition)) {
    hset.push_back(field);
    hset.push_back(value);
  }
  commands.push_back(std::move(hset));
  commands.push_back({"SADD", keys::kFunctionsSet, definition.name});
  commands.push_back({"EXEC"});
  for (const auto &command : commands) TRY_STATUS(redis.append(command));
  for (size_t i = 0; i < commands.size(); ++i) {
    TRY_ASSIGN(Reply reply, redis.next_reply());
  }
  return {};
}

Status drop_unused_blobs(RedisClient &redis, const std::vector<std::string> &candidates) {
  if (candidates.empty()) return {};
  TRY_ASSIGN(Reply names, redis.command({"SMEMBERS", keys::kFunctionsSet}));
  std::set<std::string> used;
  for (size_t i = 0; names && i < names->elements; ++i) {
    TRY_ASSIGN(Reply sha, redis.command({"HGET", keys::function_definition(reply_text(names->element[i])), "package_sha256"}));
    used.insert(reply_text(sha.get()));
  }
  for (const std::string &sha : candidates) {
    if (is_sha256_hex(sha) && used.count(sha) == 0) {
      TRY_ASSIGN(Reply reply, redis.command({"DEL", keys::package_blob(sha)}));
    }
  }
  return {};
}

Status delete_definition(RedisClient &redis, const std::string &name) {
  TRY_ASSIGN(Reply exists, redis.command({"EXISTS", keys::function_definition(name)}));
  if (exists->integer == 0) return fail(make_error("no function " + quote_value(name)));
  // A definition that breaks the rules is deleted all the same: that is how it is repaired.
  auto existing = load_definition(redis, name);
  TRY_ASSIGN(Reply deleted, redis.command({"DEL", keys::function_definition(name)}));
  TRY_ASSIGN(Reply removed, redis.command({"SREM", keys::kFunctionsSet, name}));
  TRY_ASSIGN(Reply uncounted, redis.command({"HDEL", keys::kFunctionExecutions, name}));
  if (!existing || !*existing) return {};
  return drop_unused_blobs(redis, {(*existing)->package_sha256});
}

std::string now_timestamp() { return format_timestamp_ms(now_unix_ms()); }

}  // namespace hutch::cli
