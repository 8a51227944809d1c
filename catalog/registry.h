// Function names resolve here, for hutchd (what to exec) and for job validation (is the name known).
// Built-ins live in two multi-call binaries: hutch-fn (hello, sleep: nothing heavy linked, since its start-up
// is every job's latency) and hutch-image (the OpenCV image functions). Operators add local executables with
// `hutchd --function NAME=PATH`. User functions stored in Redis resolve in supervisor/user_functions.h.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "functions/builtin_names.h"

namespace hutch {

struct FunctionSpec {
  std::string name;
  std::string executable;         // absolute path
  std::vector<std::string> argv;  // argv[0] included
  bool builtin = false;
  // User functions (stored in Redis): the unpacked package on the host (its path for messages, its fd for
  // the mount), shown read-only at /function in the sandbox, and the function's name inside its package
  // ($HUTCH_FUNCTION).
  std::string package_directory;
  int package_directory_fd = -1;  // that directory, held open (and leased) by the resolved function
  std::string name_in_package;
  std::string package_name;
  // System calls this function may make on top of the default seccomp policy, sorted, no repeats. Only
  // lists checked by parse_seccomp_allow (sandbox/seccomp_policy.h) belong here, whoever defines the
  // function (`hutchd --seccomp-allow NAME=call,...` today).
  std::vector<std::string> seccomp_allow;
};

class FunctionRegistry {
 public:
  // Registers hutch-fn's built-ins (hello, sleep) as `<hutch_fn_path> <name>`.
  Status add_builtins(const std::string &hutch_fn_path);
  // Registers hutch-image's functions (rgb2gray, clahe_equalization, resize_image) as
  // `<hutch_image_path> <name>`. When the program is not usable they are remembered as unavailable, with
  // the reason, and the error is returned for the caller to log: hutchd runs on without them.
  Status add_image_builtins(const std::string &hutch_image_path);
  // Registers a local executable; fails for a bad name, a clash with a built-in, or a path that is not an
  // absolute, executable regular file. The sentence names what was wrong.
  Status add_local(const std::string &name, const std::string &path);
  // "NAME=PATH" as given on the command line.
  Status add_local_from_flag(const std::string &name_equals_path);

  // Adds checked calls to the function's seccomp_allow; fails for a name that is not registered.
  Status allow_syscalls(const std::string &name, const std::vector<std::string> &calls);

  const FunctionSpec *find(const std::string &name) const;
  std::vector<std::string> names() const;  // sorted

  // For a built-in that could not be registered: a sentence for the jobs that ask for it, else nullptr.
  const std::string *unavailable_reason(const std::string &name) const;
  // Forgets `name` and records why it cannot run (hutchd calls it when the executable cannot be opened).
  void mark_unavailable(const std::string &name, const std::string &reason);

 private:
  std::map<std::string, FunctionSpec> functions_;
  std::map<std::string, std::string> unavailable_;
};

}  // namespace hutch
