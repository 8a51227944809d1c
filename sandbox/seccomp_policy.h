// A seccomp policy as data: which system calls run, which fail with which errno, which kill. Calls a policy
// does not name fail with EPERM.
//
// The default policy is a readable file in the repository, sandbox/policy/default.seccomp, embedded into
// hutchd when it is built (so the binary and the repository never disagree) and parsed at start-up; the
// file's header explains its syntax. Per function, more of the unlisted calls may be allowed: the list is
// a field of the function's definition (functions/registry.h), checked here by parse_seccomp_allow and
// merged by with_allowed, once per distinct list at start-up.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace hutch {

enum class SeccompVerb { kAllow, kErrno, kKill };

struct SeccompCondition {
  enum class Compare { kEqual, kNotEqual, kMaskedEqual };
  unsigned argument = 0;  // 0 to 5
  Compare compare = Compare::kEqual;
  uint64_t mask = 0;  // kMaskedEqual: (argument & mask) == value
  uint64_t value = 0;
};

struct SeccompRule {
  std::string syscall;  // as libseccomp names it
  int number = -1;      // on this machine's architecture
  SeccompVerb verb = SeccompVerb::kAllow;
  int errno_value = 0;  // kErrno
  std::vector<SeccompCondition> conditions;  // all must hold; empty: every use of the call
  int line = 0;         // in the policy file; 0 for a call allowed per function
  std::string reason;   // the comment above the rule in the file
};

struct SeccompPolicy {
  std::string source;  // "default.seccomp", or the path given to --seccomp-policy
  std::vector<SeccompRule> rules;

  // The first rule naming `syscall`, or null: the call is unlisted and fails with EPERM.
  const SeccompRule *find(std::string_view syscall) const;
  size_t count(SeccompVerb verb) const;  // distinct calls with a rule of that verb
};

// Parses a policy file. `source` names it in errors: "default.seccomp line 12: 'fooo' is not a system call
// on x86_64".
Result<SeccompPolicy> parse_seccomp_policy(std::string_view text, const std::string &source);

// sandbox/policy/default.seccomp as it was when hutchd was built, and that text parsed.
std::string_view default_seccomp_policy_text();
Result<SeccompPolicy> default_seccomp_policy();

// "acct, quotactl" (commas, spaces allowed) -> the calls, sorted and without repeats, once each is known to
// be a system call of this machine that `policy` leaves unlisted or already allows outright. Refuses, with
// a sentence saying which and why, a call in the kill set, one the policy answers with a chosen errno, and
// one it allows only with some arguments. The one check for every per-function list, whatever its origin.
Result<std::vector<std::string>> parse_seccomp_allow(std::string_view list, const SeccompPolicy &policy);

// `policy` plus an outright allow of each call in `extra` (checked again with parse_seccomp_allow's rules).
Result<SeccompPolicy> with_allowed(const SeccompPolicy &policy, const std::vector<std::string> &extra);

// The number of `name` on this machine, or -1 when it is not one of its system calls. "x86_64".
int native_syscall_number(const std::string &name);
std::string native_architecture_name();

}  // namespace hutch
