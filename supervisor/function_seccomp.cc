#include "supervisor/function_seccomp.h"

#include "common/file_io.h"

namespace hutch {
namespace {

constexpr size_t kMaxPolicyBytes = 1 << 20;

Result<SeccompPolicy> load_policy(const std::string &path) {
  if (path.empty()) return default_seccomp_policy();
  auto text = read_file(path, kMaxPolicyBytes);
  if (!text) return fail(text.error().context("--seccomp-policy"));
  return parse_seccomp_policy(*text, path);
}

// "hello=acct,quotactl" -> the function's calls, checked against `policy`, added to its definition.
Status apply_allow_flag(const std::string &flag, const SeccompPolicy &policy, FunctionRegistry &registry) {
  auto equals = flag.find('=');
  if (equals == std::string::npos || equals == 0)
    return fail(make_error("'" + flag + "' is not NAME=CALL,CALL; use e.g. --seccomp-allow hello=acct,quotactl"));
  std::string name = flag.substr(0, equals);
  auto calls = parse_seccomp_allow(flag.substr(equals + 1), policy);
  if (!calls) return fail(calls.error());
  return registry.allow_syscalls(name, *calls);
}

std::string joined(const std::vector<std::string> &items) {
  std::string out;
  for (const std::string &item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

}  // namespace

Result<FunctionSeccomp> FunctionSeccomp::prepare(const SupervisorConfig &config, FunctionRegistry &registry) {
  FunctionSeccomp seccomp;
  TRY_ASSIGN(seccomp.policy_, load_policy(config.seccomp_policy_path));
  for (const std::string &flag : config.seccomp_allow) {
    if (auto applied = apply_allow_flag(flag, seccomp.policy_, registry); !applied)
      return fail(applied.error().context("--seccomp-allow " + flag));
  }
  auto own = SeccompProgram::compile(seccomp.policy_);
  if (!own) return fail(own.error());
  seccomp.programs_.emplace("", std::move(*own));
  for (const std::string &name : registry.names()) TRY_STATUS(seccomp.compile_for(*registry.find(name)));
  return seccomp;
}

Status FunctionSeccomp::compile_for(const FunctionSpec &function) {
  std::string key = joined(function.seccomp_allow);
  auto cached = programs_.find(key);
  if (cached == programs_.end()) {
    auto merged = with_allowed(policy_, function.seccomp_allow);
    if (!merged) return fail(merged.error().context("function '" + function.name + "'"));
    auto program = SeccompProgram::compile(*merged);
    if (!program) return fail(program.error().context("function '" + function.name + "'"));
    cached = programs_.emplace(key, std::move(*program)).first;
  }
  by_function_[function.name] = &cached->second;
  if (!key.empty()) extras_by_function_[function.name] = key;
  return {};
}

const sock_fprog *FunctionSeccomp::program_for(const std::string &function) const {
  auto found = by_function_.find(function);
  return found != by_function_.end() ? found->second->program() : programs_.at("").program();
}

std::vector<std::string> FunctionSeccomp::describe() const {
  std::vector<std::string> lines;
  lines.push_back(policy_.source + ": " + std::to_string(policy_.count(SeccompVerb::kAllow)) + " calls allowed, " +
                  std::to_string(policy_.count(SeccompVerb::kKill)) + " kill, " +
                  std::to_string(policy_.count(SeccompVerb::kErrno)) +
                  " answered with a chosen errno, every other call EPERM, other ABIs kill; a " +
                  std::to_string(programs_.at("").instruction_count()) + "-instruction filter");
  for (const auto &[function, extras] : extras_by_function_) {
    lines.push_back("function '" + function + "' also allows " + extras + " (a " +
                    std::to_string(programs_.at(extras).instruction_count()) + "-instruction filter)");
  }
  return lines;
}

}  // namespace hutch
