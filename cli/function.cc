// `hutch function create|update|list|show|delete`: user functions stored in Redis (docs/functions.md).
#include <algorithm>
#include <cstdio>

#include "cli/function_store.h"
#include "cli/verbs.h"

namespace hutch::cli {
namespace {

std::string optional_number(const std::optional<double> &value) {
  if (!value) return "-";
  char text[32];
  snprintf(text, sizeof text, "%g", *value);
  return text;
}

// The stored definition, if any. One that breaks the rules (written by hand, or by an older CLI) exists but
// can only be replaced whole: an update then needs both --entry and the code.
Result<std::optional<FunctionDefinition>> existing_definition(RedisClient &redis, const FunctionOptions &options) {
  auto existing = load_definition(redis, options.name);
  if (existing) return existing;
  TRY_ASSIGN(Reply found, redis.command({"EXISTS", keys::function_definition(options.name)}));
  if (found->integer == 0) return existing;  // there is none: reading failed for another reason
  if (options.action == "create" || (options.entry && (options.file || options.package)))
    return std::optional<FunctionDefinition>{FunctionDefinition{}};
  return fail(make_error("function update: " + existing.error().message +
                         "; give --entry and --file or --package to replace it whole"));
}

Result<int> create_or_update(RedisClient &redis, const FunctionOptions &options) {
  TRY_STATUS(check_user_function_name(options.name));
  TRY_ASSIGN(auto existing, existing_definition(redis, options));
  bool create = options.action == "create";
  if (create && existing)
    return fail(make_error("function create: '" + options.name + "' exists; change it with hutch function update"));
  if (!create && !existing)
    return fail(make_error("function update: no function '" + options.name + "'; make it with hutch function create"));
  if (!create && !existing->package.empty())
    return fail(make_error("function update: '" + options.name + "' belongs to package '" + existing->package +
                           "'; change the package and push it again"));

  FunctionDefinition definition = existing.value_or(FunctionDefinition{});
  std::string old_sha = definition.package_sha256;
  definition.name = definition.function = options.name;
  if (options.entry) definition.entry = *options.entry;
  if (options.description) definition.description = *options.description;
  TRY_STATUS(apply_defaults(definition, options.timeout, options.memory, options.cpu));

  std::optional<Code> code;
  if (options.file || options.package) {
    auto loaded = load_code(options.file ? *options.file : *options.package, options.file.has_value());
    if (!loaded) return fail(loaded.error().context("function " + options.action));
    code = std::move(*loaded);
    definition.package_sha256 = code->sha256;
    definition.package_bytes = code->archive.size();
    TRY_STATUS(check_entry(definition.entry, code->entries));
  } else if (options.entry) {
    // A new entry for the stored code: check it against that code's file list.
    TRY_ASSIGN(std::string blob, load_blob(redis, definition.package_sha256));
    TRY_ASSIGN(auto entries, read_package_archive(blob));
    TRY_STATUS(check_entry(definition.entry, entries));
  }
  definition.updated_at = now_timestamp();
  if (create || definition.created_at.empty()) definition.created_at = definition.updated_at;
  TRY_STATUS(store_definition(redis, definition, code ? &*code : nullptr));
  if (!create && !old_sha.empty() && old_sha != definition.package_sha256) {
    TRY_STATUS(drop_unused_blobs(redis, {old_sha}));
  }
  std::printf("%s %s (package %s, %llu bytes)\n", create ? "created" : "updated", definition.name.c_str(),
              definition.package_sha256.substr(0, 12).c_str(), static_cast<unsigned long long>(definition.package_bytes));
  return 0;
}

Result<int> list_functions(RedisClient &redis, Output output) {
  TRY_ASSIGN(Reply names, redis.command({"SMEMBERS", keys::kFunctionsSet}));
  std::vector<std::string> sorted;
  for (size_t i = 0; names && i < names->elements; ++i) sorted.push_back(reply_text(names->element[i]));
  std::sort(sorted.begin(), sorted.end());
  std::printf("%-32s %-10s %-12s %s\n", "NAME", "EXECUTIONS", "PACKAGE", "DESCRIPTION");
  for (const std::string &name : sorted) {
    auto loaded = load_definition(redis, name);
    if (!loaded) {
      // One definition that breaks the rules must not hide the others: it is listed with the reason.
      std::printf("%-32s %-10s %-12s unusable: %s\n", shown(name, output).c_str(), "-", "-",
                  shown(loaded.error().message, output).c_str());
      continue;
    }
    const auto &definition = *loaded;
    if (!definition) continue;  // deleted between the two reads
    std::printf("%-32s %-10lld %-12s %s\n", shown(name, output).c_str(), static_cast<long long>(definition->executions),
                definition->package.empty() ? "-" : shown(definition->package, output).c_str(),
                shown(definition->description, output).c_str());
  }
  return 0;
}

Result<int> show_function(RedisClient &redis, const std::string &name, Output output) {
  TRY_ASSIGN(auto found, load_definition(redis, name));
  if (!found) return fail(make_error("no function '" + name + "'"));
  const FunctionDefinition &d = *found;
  std::printf("name:        %s\n", shown(d.name, output).c_str());
  std::printf("description: %s\n", shown(d.description, output).c_str());
  std::printf("entry:       %s\n", shown(d.entry, output).c_str());
  if (!d.package.empty())
    std::printf("package:     %s (as %s)\n", shown(d.package, output).c_str(), shown(d.function, output).c_str());
  std::printf("checksum:    sha256:%s\n", shown(d.package_sha256, output).c_str());
  std::printf("size:        %llu bytes\n", static_cast<unsigned long long>(d.package_bytes));
  std::printf("timeout:     %s\n", optional_number(d.timeout_seconds).c_str());
  std::printf("memory:      %s\n", d.memory_bytes ? std::to_string(*d.memory_bytes).c_str() : "-");
  std::printf("cpu:         %s\n", optional_number(d.cpu_cores).c_str());
  std::printf("created:     %s\n", shown(d.created_at, output).c_str());
  std::printf("updated:     %s\n", shown(d.updated_at, output).c_str());
  std::printf("executions:  %lld\n", static_cast<long long>(d.executions));
  return 0;
}

}  // namespace

Result<int> run_function(RedisClient &redis, const FunctionOptions &options) {
  if (options.action == "create" || options.action == "update") return create_or_update(redis, options);
  const Output output = output_for(options.raw);
  if (options.action == "list") return list_functions(redis, output);
  if (options.action == "show") return show_function(redis, options.name, output);
  // A definition that breaks the rules is deleted all the same (its package, if any, is unknown then).
  auto loaded = load_definition(redis, options.name);
  std::optional<FunctionDefinition> existing = loaded ? std::move(*loaded) : std::nullopt;
  if (existing && !existing->package.empty())
    return fail(make_error("function delete: '" + options.name + "' belongs to package '" + existing->package +
                           "'; delete the package (hutch package delete " + existing->package + ")"));
  TRY_STATUS(delete_definition(redis, options.name));
  std::printf("deleted %s\n", options.name.c_str());
  return 0;
}

}  // namespace hutch::cli
