// `hutch package push|list|show|delete`: several functions sharing one code base, named by a manifest
// (functions/manifest.h). Each becomes a user function "<package>.<function>" with the package's code.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/function_store.h"
#include "cli/verbs.h"
#include "catalog/manifest.h"

namespace hutch::cli {
namespace {

Result<Manifest> find_manifest(const std::vector<PackageEntry> &entries) {
  for (const char *file_name : {"hutch.toml", "hutch.json"}) {
    for (const PackageEntry &entry : entries) {
      if (!entry.directory && entry.path == file_name) return parse_manifest(file_name, entry.content);
    }
  }
  return fail(make_error("no hutch.toml or hutch.json at the top of the package; docs/functions.md shows one"));
}

std::vector<std::string> package_functions(RedisClient &redis, const std::string &name) {
  auto reply = redis.command({"HGET", keys::package_record(name), "functions"});
  if (!reply) return {};
  auto list = nlohmann::json::parse(reply_text(reply->get()), nullptr, false);
  std::vector<std::string> names;
  if (list.is_array()) {
    for (const auto &item : list) {
      if (item.is_string()) names.push_back(item.get<std::string>());
    }
  }
  return names;
}

Result<int> push(RedisClient &redis, const std::string &path) {
  auto code = load_code(path, false);
  if (!code) return fail(code.error().context("package push"));
  auto manifest = find_manifest(code->entries);
  if (!manifest) return fail(manifest.error().context("package push"));
  std::vector<std::string> previous = package_functions(redis, manifest->name);

  std::vector<FunctionDefinition> definitions;
  std::string now = now_timestamp();
  for (const ManifestFunction &function : manifest->functions) {
    FunctionDefinition definition;
    definition.name = manifest->name + "." + function.name;
    auto checked = [&](Status status) -> Status {
      if (!status) return fail(status.error().context("package push: " + definition.name));
      return {};
    };
    TRY_STATUS(checked(check_user_function_name(definition.name)));
    TRY_ASSIGN(auto existing, load_definition(redis, definition.name));
    if (existing && existing->package != manifest->name)
      return fail(make_error("package push: " + definition.name + " exists as a function of its own; delete it first"));
    definition.function = function.name;
    definition.package = manifest->name;
    definition.entry = function.entry;
    definition.description = function.description;
    definition.package_sha256 = code->sha256;
    definition.package_bytes = code->archive.size();
    definition.created_at = existing ? existing->created_at : now;
    definition.updated_at = now;
    TRY_STATUS(checked(apply_defaults(definition, function.timeout, function.memory, function.cpu, "")));
    TRY_STATUS(checked(check_entry(definition.entry, code->entries)));
    definitions.push_back(std::move(definition));
  }
  std::vector<std::string> names;
  for (const FunctionDefinition &definition : definitions) {
    TRY_STATUS(store_definition(redis, definition, &*code));
    names.push_back(definition.name);
  }
  std::vector<std::string> old_blobs;
  for (const std::string &gone : previous) {
    if (std::find(names.begin(), names.end(), gone) != names.end()) continue;
    TRY_ASSIGN(auto old, load_definition(redis, gone));
    if (old) old_blobs.push_back(old->package_sha256);
    TRY_STATUS(delete_definition(redis, gone));
  }
  TRY_ASSIGN(Reply created, redis.command({"HGET", keys::package_record(manifest->name), "created_at"}));
  std::string created_at = reply_is_nil(created.get()) ? now : reply_text(created.get());
  TRY_ASSIGN(Reply stored, redis.command({"HSET", keys::package_record(manifest->name), "name", manifest->name,
                                          "description", manifest->description, "package_sha256", code->sha256,
                                          "functions", nlohmann::json(names).dump(), "created_at", created_at,
                                          "updated_at", now}));
  TRY_ASSIGN(Reply indexed, redis.command({"SADD", keys::kPackagesSet, manifest->name}));
  for (const FunctionDefinition &definition : definitions) old_blobs.push_back(definition.package_sha256);
  TRY_STATUS(drop_unused_blobs(redis, old_blobs));
  std::printf("pushed %s (package %s): %zu functions\n", manifest->name.c_str(), code->sha256.substr(0, 12).c_str(),
              names.size());
  for (const std::string &name : names) std::printf("  %s\n", name.c_str());
  return 0;
}

Result<int> list(RedisClient &redis, Output output) {
  TRY_ASSIGN(Reply names, redis.command({"SMEMBERS", keys::kPackagesSet}));
  std::vector<std::string> sorted;
  for (size_t i = 0; names && i < names->elements; ++i) sorted.push_back(reply_text(names->element[i]));
  std::sort(sorted.begin(), sorted.end());
  std::printf("%-24s %-10s %s\n", "PACKAGE", "FUNCTIONS", "DESCRIPTION");
  for (const std::string &name : sorted) {
    TRY_ASSIGN(Reply description, redis.command({"HGET", keys::package_record(name), "description"}));
    std::printf("%-24s %-10zu %s\n", shown(name, output).c_str(), package_functions(redis, name).size(),
                shown(reply_text(description.get()), output).c_str());
  }
  return 0;
}

Result<int> show(RedisClient &redis, const std::string &name, Output output) {
  TRY_ASSIGN(Reply record, redis.command({"HGETALL", keys::package_record(name)}));
  FieldList fields = reply_field_pairs(record.get());
  if (fields.empty()) return fail(make_error("no package '" + name + "'"));
  for (const char *field : {"name", "description", "package_sha256", "created_at", "updated_at"})
    std::printf("%-15s %s\n", (std::string(field) + ":").c_str(), shown(field_value(fields, field).value_or(""), output).c_str());
  std::printf("functions:\n");
  for (const std::string &function : package_functions(redis, name)) {
    TRY_ASSIGN(auto definition, load_definition(redis, function));
    if (definition)
      std::printf("  %-32s %s\n", shown(function, output).c_str(), shown(definition->description, output).c_str());
  }
  return 0;
}

Result<int> remove(RedisClient &redis, const std::string &name) {
  TRY_ASSIGN(Reply exists, redis.command({"EXISTS", keys::package_record(name)}));
  if (exists->integer == 0) return fail(make_error("no package '" + name + "'"));
  for (const std::string &function : package_functions(redis, name)) {
    auto deleted = delete_definition(redis, function);
    (void)deleted;  // a function already gone is what we want anyway
  }
  TRY_ASSIGN(Reply removed, redis.command({"DEL", keys::package_record(name)}));
  TRY_ASSIGN(Reply unindexed, redis.command({"SREM", keys::kPackagesSet, name}));
  std::printf("deleted package %s\n", name.c_str());
  return 0;
}

}  // namespace

Result<int> run_package(RedisClient &redis, const PackageOptions &options) {
  if (options.action == "push") return push(redis, options.argument);
  const Output output = output_for(options.raw);
  if (options.action == "list") return list(redis, output);
  if (options.action == "show") return show(redis, options.argument, output);
  return remove(redis, options.argument);
}

}  // namespace hutch::cli
