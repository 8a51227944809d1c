#include "queue/function_definition.h"

#include <charconv>
#include <cstdio>

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

Result<FunctionDefinition> definition_from_fields(const FieldPairs &fields) {
  FunctionDefinition d;
  auto required = [&](const char *name, std::string &target) -> Status {
    const std::string *value = find(fields, name);
    if (value == nullptr || value->empty())
      return fail(make_error(std::string("the stored definition has no '") + name + "'"));
    target = *value;
    return {};
  };
  TRY_STATUS(required("name", d.name));
  TRY_STATUS(required("entry", d.entry));
  TRY_STATUS(required("package_sha256", d.package_sha256));
  if (d.package_sha256.size() != 64) return fail(make_error("the stored definition's package_sha256 is not a SHA-256"));
  if (const std::string *value = find(fields, "function"); value != nullptr && !value->empty()) d.function = *value;
  else d.function = d.name;
  for (auto [name, target] : {std::pair{"description", &d.description}, std::pair{"package", &d.package},
                              std::pair{"created_at", &d.created_at}, std::pair{"updated_at", &d.updated_at}}) {
    if (const std::string *value = find(fields, name)) *target = *value;
  }
  if (const std::string *value = find(fields, "package_bytes")) d.package_bytes = std::strtoull(value->c_str(), nullptr, 10);
  if (const std::string *value = find(fields, "timeout")) {
    TRY_ASSIGN(double timeout, parse_timeout_default("timeout", *value));
    d.timeout_seconds = timeout;
  }
  if (const std::string *value = find(fields, "memory")) {
    TRY_ASSIGN(uint64_t memory, parse_memory_default("memory", *value));
    d.memory_bytes = memory;
  }
  if (const std::string *value = find(fields, "cpu")) {
    TRY_ASSIGN(double cpu, parse_cpu_default("cpu", *value));
    d.cpu_cores = cpu;
  }
  return d;
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
    return fail(make_error(std::string("entry: '") + entry + "' has an unclosed " + (quote == '"' ? "\"" : "'") +
                           " quote"));
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
