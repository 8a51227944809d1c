// The command line, parsed into one struct per verb. Pure: no Redis, no files, no environment, so usage
// errors are decided (and tested) before anything is contacted. Values the supervisor validates (timeout,
// memory, cpu, input) are passed through as given: hutchd owns those rules and says what is wrong.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/error.h"

namespace hutch::cli {

struct HelpRequest {};

// The verbs that print what jobs and users stored carry `raw`: --raw prints it byte for byte instead of
// showing control characters as escapes (common/text_escape.h).

struct SubmitOptions {
  std::string function;
  std::optional<std::string> input;  // JSON text, or `@FILE` until resolve_submit_input reads the file
  std::optional<std::string> timeout;
  std::optional<std::string> memory;
  std::optional<std::string> cpu;
  std::vector<std::pair<std::string, std::string>> files;  // --file NAME=PATH: file name in the job, local path
  std::optional<std::string> out;
  bool wait = false;
  bool raw = false;
};

struct PutOptions {
  std::string key;
  std::string path;  // "-": stdin
};

struct GetOptions {
  std::string key;
  std::optional<std::string> path;  // none or "-": stdout
};

struct StatusOptions {
  std::string id;
  bool json = false;
  bool raw = false;
};

struct LsOptions {
  std::optional<std::string> function;
  std::optional<std::string> status;
  size_t limit = 20;
  bool raw = false;
};

struct LogsOptions {
  std::optional<std::string> id;  // none: follow every execution
  bool follow = false;
  bool raw = false;
};

// Passed through as given: hutchd's own flag parser (supervisor/config.cc) checks them.
struct DoctorOptions {
  std::optional<std::string> uid_base;
  std::optional<std::string> concurrency;
};

// `function create|update|list|show|delete`. Values are checked by the verb (cli/function.cc).
struct FunctionOptions {
  std::string action;
  std::string name;
  std::optional<std::string> entry;
  std::optional<std::string> file;     // a single file as the code
  std::optional<std::string> package;  // a directory, .zip or .tar.gz as the code
  std::optional<std::string> timeout;
  std::optional<std::string> memory;
  std::optional<std::string> cpu;
  std::optional<std::string> description;
  bool raw = false;
};

// `package push DIR`, `package list|show NAME|delete NAME`.
struct PackageOptions {
  std::string action;
  std::string argument;
  bool raw = false;
};

// `acl`: a Redis ACL file with one user per role (cli/acl.cc, docs/security.md). Needs no Redis.
struct AclOptions {
  std::string user_prefix = "hutch-";
  std::optional<std::string> password_dir;                       // <dir>/<role>: read, or made when missing
  std::vector<std::pair<std::string, std::string>> password_files;  // --password-file ROLE=FILE
  std::vector<std::string> data_prefixes;                          // --data-prefix PREFIX
};

using Command = std::variant<HelpRequest, SubmitOptions, StatusOptions, LsOptions, LogsOptions, DoctorOptions,
                             PutOptions, GetOptions, FunctionOptions, PackageOptions, AclOptions>;

struct Invocation {
  std::optional<std::string> redis_url;  // none: HUTCH_REDIS, then the default
  Command command;
  bool raw = false;                      // --raw, copied into the command's options
};

// `args` excludes the program name. Errors are usage errors: a sentence for the user, shown with the usage.
Result<Invocation> parse_command_line(const std::vector<std::string> &args);

}  // namespace hutch::cli
