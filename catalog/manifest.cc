#include "catalog/manifest.h"

#include <nlohmann/json.hpp>
#include <sstream>
#include <toml++/toml.h>

#include "catalog/registry.h"

namespace hutch {
namespace {

// A default as the job field would be written: numbers and strings both accepted ("512M", 10, 0.5).
std::optional<std::string> scalar_text(const nlohmann::json &value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number()) {
    std::ostringstream text;
    text << value.get<double>();
    return text.str();
  }
  return std::nullopt;
}

// Both formats are read into JSON first, so one set of rules checks them.
Result<nlohmann::json> toml_to_json(const std::string &file_name, const std::string &text) {
  // This build of toml++ reports parse errors as exceptions; they stop here.
  toml::table table;
  try {
    table = toml::parse(text, file_name);
  } catch (const toml::parse_error &error) {
    return fail(make_error(file_name + " line " + std::to_string(error.source().begin.line) + ": " +
                           std::string(error.description())));
  }
  std::ostringstream json;
  json << toml::json_formatter{table};
  return nlohmann::json::parse(json.str());
}

}  // namespace

Result<Manifest> parse_manifest(const std::string &file_name, const std::string &text) {
  nlohmann::json document;
  if (file_name.ends_with(".toml")) {
    TRY_ASSIGN(document, toml_to_json(file_name, text));
  } else {
    document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded()) return fail(make_error(file_name + ": not valid JSON"));
  }
  auto problem = [&](const std::string &sentence) { return fail(make_error(file_name + ": " + sentence)); };
  if (!document.is_object()) return problem("the manifest must be a table (object) with name, entry and functions");
  Manifest manifest;
  auto text_of = [&](const nlohmann::json &table, const char *key) -> std::optional<std::string> {
    auto it = table.find(key);
    if (it == table.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  manifest.name = text_of(document, "name").value_or("");
  if (!is_valid_function_name(manifest.name))
    return problem("name: '" + manifest.name + "' is not a package name; use 1-64 letters, digits, '_', '.' or '-'");
  manifest.description = text_of(document, "description").value_or("");
  std::string entry = text_of(document, "entry").value_or("");
  auto functions = document.find("functions");
  if (functions == document.end() || !functions->is_object() || functions->empty())
    return problem("functions: name at least one function, e.g. [functions.rgb2gray]");
  for (const auto &[name, table] : functions->items()) {
    if (!table.is_object()) return problem("functions." + name + ": must be a table");
    std::string qualified = manifest.name + "." + name;
    if (!is_valid_function_name(name) || !is_valid_function_name(qualified))
      return problem("functions." + name + ": not a function name; use letters, digits, '_', '.' or '-' (at most 64 with the package name)");
    ManifestFunction function{name, text_of(table, "description").value_or(""), text_of(table, "entry").value_or(entry), {}, {}, {}};
    if (function.entry.empty()) return problem("functions." + name + ": no entry; give entry for the package or the function");
    for (auto [key, target] : {std::pair{"timeout", &function.timeout}, std::pair{"memory", &function.memory},
                               std::pair{"cpu", &function.cpu}}) {
      auto it = table.find(key);
      if (it == table.end()) continue;
      *target = scalar_text(*it);
      if (!*target) return problem("functions." + name + "." + key + ": use a number or a string");
    }
    for (const auto &[key, value] : table.items()) {
      if (key != "description" && key != "entry" && key != "timeout" && key != "memory" && key != "cpu")
        return problem("functions." + name + ": unknown key '" + key + "'; use description, entry, timeout, memory, cpu");
    }
    manifest.functions.push_back(std::move(function));
  }
  return manifest;
}

}  // namespace hutch
