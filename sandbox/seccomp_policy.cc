// What a policy answers about itself, and the per-function additions: which calls a function may be given on
// top of the file, and the merged policy. The rule for additions is that a function may only widen what the
// file left open (its unlisted calls); every call the file decides by name stays decided, because each of
// those lines exists to stop something an outright allow would let through.
#include <seccomp.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "sandbox/seccomp_policy.h"

namespace hutch {
namespace {

bool is_syscall_name_shape(const std::string &name) {
  return !name.empty() && name.size() <= 64 &&
         std::all_of(name.begin(), name.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

// The first sentence of a rule's comment, for refusals that quote the file.
std::string first_sentence(const std::string &reason) {
  size_t end = reason.find(". ");
  return end == std::string::npos ? reason : reason.substr(0, end + 1);
}

std::string where(const SeccompPolicy &policy, const SeccompRule &rule) {
  std::string place = policy.source + " line " + std::to_string(rule.line);
  return rule.reason.empty() ? place : place + ": \"" + first_sentence(rule.reason) + "\"";
}

// Empty when `call` may be allowed per function under `policy`, else the sentence that says why not.
std::string refusal(const SeccompPolicy &policy, const std::string &call) {
  if (!is_syscall_name_shape(call) || native_syscall_number(call) < 0)
    return "'" + call + "' is not a system call on " + native_architecture_name();
  const SeccompRule *rule = policy.find(call);
  if (rule == nullptr) return {};
  switch (rule->verb) {
    case SeccompVerb::kKill:
      return "'" + call + "' is in the kill set (" + where(policy, *rule) +
             "), which no function can be allowed: those calls reach past the job or into the kernel's most "
             "exposed code";
    case SeccompVerb::kErrno:
      return "'" + call + "' is answered with " + ::strerrorname_np(rule->errno_value) + " on purpose (" +
             where(policy, *rule) + "), so a function cannot be allowed it";
    case SeccompVerb::kAllow:
      if (rule->conditions.empty()) return {};
      return "'" + call + "' runs only with some arguments (" + where(policy, *rule) +
             "); allowing it outright would drop that condition, so a function cannot be allowed it";
  }
  return {};
}

}  // namespace

const SeccompRule *SeccompPolicy::find(std::string_view syscall) const {
  for (const SeccompRule &rule : rules) {
    if (rule.syscall == syscall) return &rule;
  }
  return nullptr;
}

size_t SeccompPolicy::count(SeccompVerb verb) const {
  std::set<std::string_view> calls;
  for (const SeccompRule &rule : rules) {
    if (rule.verb == verb) calls.insert(rule.syscall);
  }
  return calls.size();
}

Result<SeccompPolicy> default_seccomp_policy() {
  return parse_seccomp_policy(default_seccomp_policy_text(), "default.seccomp");
}

Result<std::vector<std::string>> parse_seccomp_allow(std::string_view list, const SeccompPolicy &policy) {
  std::set<std::string> calls;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view item = list.substr(start, comma - start);
    size_t begin = item.find_first_not_of(' ');
    size_t end = item.find_last_not_of(' ');
    std::string call = begin == std::string_view::npos ? std::string() : std::string(item.substr(begin, end - begin + 1));
    if (call.empty()) {
      // append(), not "'" + std::string(list): GCC 12 warns falsely (-Wrestrict) about that form.
      return fail(make_error(std::string("'").append(list).append(
          "' has an empty name; give system calls separated by commas, e.g. acct,quotactl")));
    }
    if (std::string why = refusal(policy, call); !why.empty()) return fail(make_error(why));
    calls.insert(call);
    start = comma + 1;
  }
  return std::vector<std::string>(calls.begin(), calls.end());
}

Result<SeccompPolicy> with_allowed(const SeccompPolicy &policy, const std::vector<std::string> &extra) {
  SeccompPolicy merged = policy;
  for (const std::string &call : extra) {
    if (std::string why = refusal(policy, call); !why.empty()) return fail(make_error(why));
    if (merged.find(call) != nullptr) continue;  // already allowed outright
    SeccompRule rule;
    rule.syscall = call;
    rule.number = native_syscall_number(call);
    rule.verb = SeccompVerb::kAllow;
    rule.reason = "allowed for this function";
    merged.rules.push_back(std::move(rule));
  }
  return merged;
}

int native_syscall_number(const std::string &name) {
  if (!is_syscall_name_shape(name)) return -1;
  // Negative numbers are libseccomp's stand-ins for calls of other architectures (socketcall on x86_64).
  int number = seccomp_syscall_resolve_name(name.c_str());
  return number < 0 ? -1 : number;
}

std::string native_architecture_name() {
  struct utsname names {};
  if (::uname(&names) != 0) return "this machine";
  return names.machine;
}

}  // namespace hutch
