// Function names resolve here, for hutchd (what to exec) and for job validation (is the name known).
// Built-ins live in the multi-call binary hutch-fn; operators add local executables with
// `hutchd --function NAME=PATH`. A later issue adds user functions stored in Redis.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/error.h"

namespace hutch {

struct FunctionSpec {
  std::string name;
  std::string executable;         // absolute path
  std::vector<std::string> argv;  // argv[0] included
  bool builtin = false;
  // System calls this function may make on top of the default seccomp policy, sorted, no repeats. Only
  // lists checked by parse_seccomp_allow (sandbox/seccomp_policy.h) belong here, whoever defines the
  // function (`hutchd --seccomp-allow NAME=call,...` today).
  std::vector<std::string> seccomp_allow;
};

class FunctionRegistry {
 public:
  // Registers hutch-fn's built-ins (hello, sleep) as `<hutch_fn_path> <name>`.
  Status add_builtins(const std::string &hutch_fn_path);
  // Registers a local executable; fails for a bad name, a clash with a built-in, or a path that is not an
  // absolute, executable regular file. The sentence names what was wrong.
  Status add_local(const std::string &name, const std::string &path);
  // "NAME=PATH" as given on the command line.
  Status add_local_from_flag(const std::string &name_equals_path);

  // Adds checked calls to the function's seccomp_allow; fails for a name that is not registered.
  Status allow_syscalls(const std::string &name, const std::vector<std::string> &calls);

  const FunctionSpec *find(const std::string &name) const;
  std::vector<std::string> names() const;  // sorted

 private:
  std::map<std::string, FunctionSpec> functions_;
};

// The built-in names hutch-fn answers to, in the order `hutch-fn --list` prints them.
const std::vector<std::string> &builtin_function_names();

// A valid function name: 1-64 of [A-Za-z0-9_.-], starting with a letter or digit.
bool is_valid_function_name(const std::string &name);

}  // namespace hutch
