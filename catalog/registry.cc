// The registry is a name -> (executable, argv) map filled once at start-up. Every check that can fail does
// so here, when hutchd starts, so a typo in `--function` stops the supervisor with a sentence instead of
// turning into an exec failure on the first job.
#include "catalog/registry.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace hutch {
namespace {

bool is_builtin_name(const std::string &name) {
  for (const auto *builtins : {&builtin_function_names(), &image_function_names()}) {
    if (std::find(builtins->begin(), builtins->end(), name) != builtins->end()) return true;
  }
  return false;
}

// An absolute path to a regular file this process may execute. `what` opens every sentence.
Status check_executable(const std::string &what, const std::string &path) {
  if (path.empty() || path.front() != '/') {
    return fail(make_error(what + ": path '" + path + "' is not absolute; give the full path to the executable"));
  }
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return fail(errno_error(what + ": stat('" + path + "')"));
  if (!S_ISREG(info.st_mode)) return fail(make_error(what + ": '" + path + "' is not a regular file"));
  // access() and not the mode bits: it answers for this process's uid, and for root it still requires
  // one execute bit, which is what execve will require.
  if (::access(path.c_str(), X_OK) != 0) {
    return fail(errno_error(what + ": '" + path + "' is not executable: access(X_OK)"));
  }
  return {};
}

}  // namespace

Status FunctionRegistry::add_builtins(const std::string &hutch_fn_path) {
  TRY_STATUS(check_executable("hutch-fn", hutch_fn_path));
  for (const auto &name : builtin_function_names()) {
    functions_[name] = FunctionSpec{
        .name = name, .executable = hutch_fn_path, .argv = {hutch_fn_path, name}, .builtin = true, .seccomp_allow = {}};
  }
  return {};
}

Status FunctionRegistry::add_image_builtins(const std::string &hutch_image_path) {
  if (auto usable = check_executable("hutch-image", hutch_image_path); !usable) {
    for (const auto &name : image_function_names()) {
      mark_unavailable(name, "function: '" + name + "' is a built-in image function, but this hutchd has no "
                             "hutch-image (" + usable.error().message + "); start hutchd with --hutch-image PATH");
    }
    return usable;
  }
  for (const auto &name : image_function_names()) {
    functions_[name] = FunctionSpec{
        .name = name, .executable = hutch_image_path, .argv = {hutch_image_path, name}, .builtin = true};
    unavailable_.erase(name);
  }
  return {};
}

Status FunctionRegistry::add_local(const std::string &name, const std::string &path) {
  if (!is_valid_function_name(name)) {
    return fail(make_error("function name '" + name +
                           "' is not valid; use 1-64 letters, digits, '_', '.' or '-', starting with a letter "
                           "or digit"));
  }
  if (is_builtin_name(name)) return fail(make_error("function '" + name + "' is a built-in and cannot be replaced"));
  if (auto existing = functions_.find(name); existing != functions_.end()) {
    return fail(make_error("function '" + name + "' is given twice ('" + existing->second.executable + "' and '" +
                           path + "'); give each name once"));
  }
  TRY_STATUS(check_executable("function '" + name + "'", path));
  functions_[name] = FunctionSpec{.name = name, .executable = path, .argv = {path}, .builtin = false, .seccomp_allow = {}};
  return {};
}

Status FunctionRegistry::add_local_from_flag(const std::string &name_equals_path) {
  auto equals = name_equals_path.find('=');
  if (equals == std::string::npos) {
    return fail(make_error("function '" + name_equals_path +
                           "' is not NAME=PATH; use e.g. balloon=/usr/local/bin/balloon"));
  }
  return add_local(name_equals_path.substr(0, equals), name_equals_path.substr(equals + 1));
}

Status FunctionRegistry::allow_syscalls(const std::string &name, const std::vector<std::string> &calls) {
  auto found = functions_.find(name);
  if (found == functions_.end()) {
    std::string known;
    for (const auto &entry : functions_) known += (known.empty() ? "" : ", ") + entry.first;
    return fail(make_error("function '" + name + "' is not registered; the functions are " + known));
  }
  std::vector<std::string> &allowed = found->second.seccomp_allow;
  allowed.insert(allowed.end(), calls.begin(), calls.end());
  std::sort(allowed.begin(), allowed.end());
  allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
  return {};
}

const FunctionSpec *FunctionRegistry::find(const std::string &name) const {
  auto found = functions_.find(name);
  return found == functions_.end() ? nullptr : &found->second;
}

const std::string *FunctionRegistry::unavailable_reason(const std::string &name) const {
  auto found = unavailable_.find(name);
  return found == unavailable_.end() ? nullptr : &found->second;
}

void FunctionRegistry::mark_unavailable(const std::string &name, const std::string &reason) {
  functions_.erase(name);
  unavailable_[name] = reason;
}

std::vector<std::string> FunctionRegistry::names() const {
  std::vector<std::string> sorted;
  sorted.reserve(functions_.size());
  for (const auto &entry : functions_) sorted.push_back(entry.first);  // std::map iterates in order
  return sorted;
}

}  // namespace hutch
