#include "cli/options.h"

#include <charconv>
#include <string_view>

#include "cli/status_words.h"
#include "common/file_name.h"

namespace hutch::cli {
namespace {

// Walks the arguments of one verb. Options take `--name VALUE` or `--name=VALUE`; `--redis` is accepted
// after the verb too, since users append it as often as they prepend it.
class ArgumentReader {
 public:
  explicit ArgumentReader(const std::vector<std::string> &args) : args_(args) {}

  void set_verb(std::string verb) { verb_ = std::move(verb); }

  bool done() const { return position_ >= args_.size(); }
  const std::string &peek() const { return args_[position_]; }
  std::string take() { return args_[position_++]; }

  bool take_flag(std::string_view name) {
    if (done() || peek() != name) return false;
    ++position_;
    return true;
  }

  // Empty optional: the next argument is not this option. An error: it is, but has no value.
  Result<std::optional<std::string>> take_value(std::string_view name) {
    if (done()) return std::optional<std::string>();
    const std::string &arg = peek();
    if (arg.size() > name.size() && arg.compare(0, name.size(), name) == 0 && arg[name.size()] == '=') {
      ++position_;
      return std::optional<std::string>(arg.substr(name.size() + 1));
    }
    if (arg != name) return std::optional<std::string>();
    if (position_ + 1 >= args_.size()) return fail(make_error(prefix() + std::string(name) + " needs a value"));
    position_ += 2;
    return std::optional<std::string>(args_[position_ - 1]);
  }

  Error unexpected() const {
    const std::string &arg = args_[position_];
    if (arg.size() > 1 && arg[0] == '-') return make_error(prefix() + "unknown option '" + arg + "'");
    return make_error(prefix() + "unexpected argument '" + arg + "'");
  }

  std::string prefix() const { return verb_.empty() ? "" : verb_ + ": "; }

 private:
  const std::vector<std::string> &args_;
  size_t position_ = 0;
  std::string verb_;
};

// Takes one `--name VALUE` into `target`; true when it matched.
Result<bool> take_into(ArgumentReader &reader, std::string_view name, std::optional<std::string> &target) {
  TRY_ASSIGN(auto value, reader.take_value(name));
  if (!value) return false;
  target = std::move(*value);
  return true;
}

bool is_help(const std::string &arg) { return arg == "--help" || arg == "-h"; }

// Shared by every verb: --redis and --help may appear anywhere. True when the argument was one of them.
Result<bool> take_common(ArgumentReader &reader, Invocation &invocation, bool &help) {
  if (!reader.done() && is_help(reader.peek())) {
    reader.take();
    help = true;
    return true;
  }
  if (reader.take_flag("--raw")) {
    invocation.raw = true;
    return true;
  }
  return take_into(reader, "--redis", invocation.redis_url);
}

// `--file NAME=PATH`, or `--file PATH` for the file's own name.
Result<std::pair<std::string, std::string>> parse_file_option(const std::string &value) {
  size_t equals = value.find('=');
  std::string path = equals == std::string::npos ? value : value.substr(equals + 1);
  std::string name = equals == std::string::npos ? path.substr(path.rfind('/') + 1) : value.substr(0, equals);
  if (path.empty()) return fail(make_error("submit: --file '" + value + "' names no file; use --file NAME=PATH"));
  if (!is_valid_file_name(name))
    return fail(make_error("submit: --file '" + value + "': '" + name + "' cannot be a file name in the job; " +
                           kFileNameRule + " (give one with --file NAME=PATH)"));
  return std::pair{name, path};
}

Result<Command> parse_submit(ArgumentReader &reader, Invocation &invocation, bool &help) {
  SubmitOptions options;
  std::optional<std::string> function;
  while (!reader.done()) {
    std::optional<std::string> file;
    TRY_ASSIGN(bool has_file, take_into(reader, "--file", file));
    if (has_file) {
      TRY_ASSIGN(auto named_file, parse_file_option(*file));
      for (const auto &[name, path] : options.files) {
        if (name == named_file.first)
          return fail(make_error("submit: --file: two files are named '" + name + "'; give each its own NAME="));
      }
      options.files.push_back(std::move(named_file));
      continue;
    }
    bool matched = false;
    for (auto [name, target] : {std::pair{"--input", &options.input}, std::pair{"--timeout", &options.timeout},
                                std::pair{"--memory", &options.memory}, std::pair{"--cpu", &options.cpu},
                                std::pair{"--out", &options.out}}) {
      TRY_ASSIGN(bool taken, take_into(reader, name, *target));
      if (taken) {
        matched = true;
        break;
      }
    }
    if (matched) continue;
    if (reader.take_flag("--wait")) {
      options.wait = true;
      continue;
    }
    TRY_ASSIGN(bool common, take_common(reader, invocation, help));
    if (common) continue;
    if (function || reader.peek().starts_with("-")) return fail(reader.unexpected());
    function = reader.take();
  }
  if (!function && !help) return fail(make_error("submit: name the function to run"));
  options.function = function.value_or("");
  return options;
}

Result<Command> parse_status(ArgumentReader &reader, Invocation &invocation, bool &help) {
  StatusOptions options;
  std::optional<std::string> id;
  while (!reader.done()) {
    if (reader.take_flag("--json")) {
      options.json = true;
      continue;
    }
    TRY_ASSIGN(bool common, take_common(reader, invocation, help));
    if (common) continue;
    if (id || reader.peek().starts_with("-")) return fail(reader.unexpected());
    id = reader.take();
  }
  if (!id && !help) return fail(make_error("status: name the execution id"));
  options.id = id.value_or("");
  return options;
}

Result<size_t> parse_limit(const std::string &text) {
  size_t limit = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || limit == 0)
    return fail(make_error("ls: --limit '" + text + "' is not a positive integer"));
  return limit;
}

Result<Command> parse_ls(ArgumentReader &reader, Invocation &invocation, bool &help) {
  LsOptions options;
  while (!reader.done()) {
    std::optional<std::string> limit;
    TRY_ASSIGN(bool function, take_into(reader, "--function", options.function));
    if (function) continue;
    TRY_ASSIGN(bool status, take_into(reader, "--status", options.status));
    if (status) {
      if (!is_status_word(*options.status))
        return fail(make_error("ls: --status '" + *options.status + "' is not a status; use one of " +
                               status_words_list()));
      continue;
    }
    TRY_ASSIGN(bool has_limit, take_into(reader, "--limit", limit));
    if (has_limit) {
      TRY_ASSIGN(options.limit, parse_limit(*limit));
      continue;
    }
    TRY_ASSIGN(bool common, take_common(reader, invocation, help));
    if (!common) return fail(reader.unexpected());
  }
  return options;
}

Result<Command> parse_logs(ArgumentReader &reader, Invocation &invocation, bool &help) {
  LogsOptions options;
  while (!reader.done()) {
    if (reader.take_flag("-f") || reader.take_flag("--follow")) {
      options.follow = true;
      continue;
    }
    TRY_ASSIGN(bool common, take_common(reader, invocation, help));
    if (common) continue;
    if (options.id || reader.peek().starts_with("-")) return fail(reader.unexpected());
    options.id = reader.take();
  }
  if (!options.id && !options.follow && !help)
    return fail(make_error("logs: name the execution id, or use -f to follow every execution"));
  return options;
}

// `put KEY FILE` and `get KEY [FILE]`: positional arguments only.
Result<std::vector<std::string>> take_positionals(ArgumentReader &reader, Invocation &invocation, bool &help,
                                                  size_t most) {
  std::vector<std::string> positionals;
  while (!reader.done()) {
    TRY_ASSIGN(bool common, take_common(reader, invocation, help));
    if (common) continue;
    if (positionals.size() == most || (reader.peek().starts_with("-") && reader.peek() != "-"))
      return fail(reader.unexpected());
    positionals.push_back(reader.take());
  }
  return positionals;
}

Result<Command> parse_put(ArgumentReader &reader, Invocation &invocation, bool &help) {
  TRY_ASSIGN(auto args, take_positionals(reader, invocation, help, 2));
  if (args.size() != 2 && !help) return fail(make_error("put: give a key and a file, e.g. hutch put img:1 photo.jpg"));
  args.resize(2);
  return PutOptions{args[0], args[1]};
}

Result<Command> parse_get(ArgumentReader &reader, Invocation &invocation, bool &help) {
  TRY_ASSIGN(auto args, take_positionals(reader, invocation, help, 2));
  if (args.empty() && !help) return fail(make_error("get: give a key, and a file to write (default: stdout)"));
  GetOptions options{args.empty() ? "" : args[0], std::nullopt};
  if (args.size() == 2) options.path = args[1];
  return options;
}

Result<Command> parse_function(ArgumentReader &reader, Invocation &invocation, bool &help) {
  FunctionOptions options;
  if (!reader.done() && !reader.peek().starts_with("-")) options.action = reader.take();
  const bool changes = options.action == "create" || options.action == "update";
  while (!reader.done()) {
    bool matched = false;
    if (changes) {
      for (auto [name, target] : {std::pair{"--entry", &options.entry}, std::pair{"--file", &options.file},
                                  std::pair{"--package", &options.package}, std::pair{"--timeout", &options.timeout},
                                  std::pair{"--memory", &options.memory}, std::pair{"--cpu", &options.cpu},
                                  std::pair{"--description", &options.description}}) {
        TRY_ASSIGN(bool taken, take_into(reader, name, *target));
        if ((matched = taken)) break;
      }
    }
    if (matched) continue;
    TRY_ASSIGN(bool common, take_common(reader, invocation, help));
    if (common) continue;
    if (!options.name.empty() || reader.peek().starts_with("-")) return fail(reader.unexpected());
    options.name = reader.take();
  }
  if (help) return options;
  if (options.action != "create" && options.action != "update" && options.action != "list" &&
      options.action != "show" && options.action != "delete")
    return fail(make_error("function: use create, update, list, show or delete"));
  if (options.action != "list" && options.name.empty())
    return fail(make_error("function " + options.action + ": name the function"));
  if (options.action == "list" && !options.name.empty()) return fail(make_error("function list: takes no name"));
  if (options.file && options.package) return fail(make_error("function: give --file or --package, not both"));
  if (options.action == "create" && !options.entry)
    return fail(make_error("function create: give --entry, the command that runs it, e.g. --entry 'python3 main.py'"));
  if (options.action == "create" && !options.file && !options.package)
    return fail(make_error("function create: give the code with --file PATH or --package DIR|ZIP|TAR.GZ"));
  return options;
}

Result<Command> parse_package(ArgumentReader &reader, Invocation &invocation, bool &help) {
  PackageOptions options;
  if (!reader.done() && !reader.peek().starts_with("-")) options.action = reader.take();
  TRY_ASSIGN(auto args, take_positionals(reader, invocation, help, 1));
  if (help) return options;
  if (options.action != "push" && options.action != "list" && options.action != "show" && options.action != "delete")
    return fail(make_error("package: use push, list, show or delete"));
  if (options.action == "list" && !args.empty()) return fail(make_error("package list: takes no argument"));
  if (options.action != "list" && args.empty())
    return fail(make_error(options.action == "push" ? "package push: give the package directory"
                                                    : "package " + options.action + ": name the package"));
  if (!args.empty()) options.argument = args[0];
  return options;
}

Result<Command> parse_doctor(ArgumentReader &reader, Invocation &invocation, bool &help) {
  DoctorOptions options;
  while (!reader.done()) {
    TRY_ASSIGN(bool uid_base, take_into(reader, "--uid-base", options.uid_base));
    if (uid_base) continue;
    TRY_ASSIGN(bool concurrency, take_into(reader, "--concurrency", options.concurrency));
    if (concurrency) continue;
    TRY_ASSIGN(bool common, take_common(reader, invocation, help));
    if (!common) return fail(reader.unexpected());
  }
  return options;
}

// `--user-prefix P`, `--password-dir DIR`, `--password-file ROLE=FILE`, `--data-prefix PREFIX`. The values are
// checked by the verb (cli/acl.cc), which knows the roles.
Result<Command> parse_acl(ArgumentReader &reader, Invocation &invocation, bool &help) {
  AclOptions options;
  while (!reader.done()) {
    std::optional<std::string> value;
    TRY_ASSIGN(bool prefix, take_into(reader, "--user-prefix", value));
    if (prefix) {
      options.user_prefix = *value;
      continue;
    }
    TRY_ASSIGN(bool directory, take_into(reader, "--password-dir", options.password_dir));
    if (directory) continue;
    TRY_ASSIGN(bool password_file, take_into(reader, "--password-file", value));
    if (password_file) {
      size_t equals = value->find('=');
      if (equals == std::string::npos || equals == 0 || equals + 1 == value->size())
        return fail(make_error("acl: --password-file '" + *value + "': use ROLE=FILE, e.g. submitter=/etc/hutch/submitter.pass"));
      options.password_files.emplace_back(value->substr(0, equals), value->substr(equals + 1));
      continue;
    }
    TRY_ASSIGN(bool data_prefix, take_into(reader, "--data-prefix", value));
    if (data_prefix) {
      options.data_prefixes.push_back(*value);
      continue;
    }
    TRY_ASSIGN(bool common, take_common(reader, invocation, help));
    if (!common) return fail(reader.unexpected());
  }
  return options;
}

// --raw goes to the verbs that print stored text; on any other it is a mistake worth saying.
Status apply_raw(Invocation &invocation, const std::string &verb) {
  if (!invocation.raw) return {};
  bool applied = std::visit(
      [](auto &options) {
        if constexpr (requires { options.raw; }) {
          options.raw = true;
          return true;
        }
        return false;
      },
      invocation.command);
  if (applied) return {};
  return fail(make_error(verb + ": --raw applies to the verbs that print what jobs and users stored: submit --wait, "
                                "status, ls, logs, function, package"));
}

}  // namespace

Result<Invocation> parse_command_line(const std::vector<std::string> &args) {
  Invocation invocation{std::nullopt, HelpRequest{}};
  ArgumentReader reader(args);
  bool help = false;
  // Global options come before the verb (and are accepted after it too, see take_common).
  while (!reader.done() && reader.peek().starts_with("-")) {
    TRY_ASSIGN(bool common, take_common(reader, invocation, help));
    if (!common) return fail(reader.unexpected());
  }
  if (help || reader.done()) {
    if (!help) return fail(make_error("name a command"));
    return invocation;
  }
  std::string verb = reader.take();
  reader.set_verb(verb);
  if (verb == "help") return invocation;
  Result<Command> command = fail(make_error("unknown command '" + verb + "'"));
  if (verb == "submit") command = parse_submit(reader, invocation, help);
  if (verb == "status") command = parse_status(reader, invocation, help);
  if (verb == "ls") command = parse_ls(reader, invocation, help);
  if (verb == "logs") command = parse_logs(reader, invocation, help);
  if (verb == "doctor") command = parse_doctor(reader, invocation, help);
  if (verb == "put") command = parse_put(reader, invocation, help);
  if (verb == "get") command = parse_get(reader, invocation, help);
  if (verb == "function") command = parse_function(reader, invocation, help);
  if (verb == "package") command = parse_package(reader, invocation, help);
  if (verb == "acl") command = parse_acl(reader, invocation, help);
  if (!command) return fail(command.error());
  if (help) return invocation;
  invocation.command = std::move(*command);
  TRY_STATUS(apply_raw(invocation, verb));
  return invocation;
}

}  // namespace hutch::cli
