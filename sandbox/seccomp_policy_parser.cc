// The policy file's parser. The syntax is in the header of sandbox/policy/default.seccomp; this file only
// turns lines into SeccompRules and says, with the line number, what is wrong with one that does not fit.
//
// A rule keeps the comment block above it as its reason, so that a refusal later ("'ptrace' is in the kill
// set") can say why in the file's own words. A block is the comment lines since the last blank line, empty
// '#' line, '# ---' heading or rule line.
#include <sched.h>
#include <sys/socket.h>

#include <cstring>
#include <map>
#include <optional>
#include <sstream>

#include "sandbox/seccomp_policy.h"

namespace hutch {
namespace {

// Names a condition may use instead of a number: the flags and families the default policy talks about.
struct NamedConstant {
  const char *name;
  uint64_t value;
};
constexpr NamedConstant kConstants[] = {
    {"CLONE_NEWNS", CLONE_NEWNS},     {"CLONE_NEWCGROUP", CLONE_NEWCGROUP}, {"CLONE_NEWUTS", CLONE_NEWUTS},
    {"CLONE_NEWIPC", CLONE_NEWIPC},   {"CLONE_NEWUSER", CLONE_NEWUSER},     {"CLONE_NEWPID", CLONE_NEWPID},
    {"CLONE_NEWNET", CLONE_NEWNET},   {"CLONE_NEWTIME", 0x00000080},        {"AF_UNIX", AF_UNIX},
    {"AF_INET", AF_INET},             {"AF_INET6", AF_INET6},               {"AF_NETLINK", AF_NETLINK},
};

constexpr const char kConditionForm[] =
    "write argN == V, argN != V or argN & MASK == V, with N from 0 to 5, and join conditions with 'and'";

std::string known_constant_names() {
  std::string names;
  for (const NamedConstant &constant : kConstants) names += (names.empty() ? "" : ", ") + std::string(constant.name);
  return names;
}

std::string trimmed(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t\r");
  return std::string(text.substr(begin, end - begin + 1));
}

std::vector<std::string> tokens_of(std::string_view text) {
  std::istringstream stream{std::string(text)};
  std::vector<std::string> tokens;
  for (std::string token; stream >> token;) tokens.push_back(token);
  return tokens;
}

// "EPERM" -> 1; 0 when no errno has that name.
int errno_from_name(const std::string &name) {
  for (int value = 1; value < 4096; ++value) {
    const char *known = ::strerrorname_np(value);
    if (known != nullptr && name == known) return value;
  }
  return 0;
}

// "0x7e020000", "17" or "CLONE_NEWNS|CLONE_NEWPID".
std::optional<uint64_t> parse_value(const std::string &text) {
  uint64_t value = 0;
  std::istringstream parts(text);
  bool any = false;
  for (std::string part; std::getline(parts, part, '|');) {
    if (part.empty()) return std::nullopt;
    any = true;
    bool named = false;
    for (const NamedConstant &constant : kConstants) {
      if (part == constant.name) {
        value |= constant.value;
        named = true;
      }
    }
    if (named) continue;
    if (part[0] < '0' || part[0] > '9') return std::nullopt;
    char *end = nullptr;
    errno = 0;
    unsigned long long number = std::strtoull(part.c_str(), &end, 0);
    if (errno != 0 || end == nullptr || *end != '\0') return std::nullopt;
    value |= number;
  }
  if (!any) return std::nullopt;
  return value;
}

class PolicyParser {
 public:
  explicit PolicyParser(const std::string &source) { policy_.source = source; }

  Result<SeccompPolicy> parse(std::string_view text) {
    int number = 0;
    size_t start = 0;
    while (start <= text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      ++number;
      TRY_STATUS(parse_line(number, text.substr(start, end - start)));
      start = end + 1;
    }
    TRY_STATUS(check_exec_allowed());
    return std::move(policy_);
  }

 private:
  Error error_at(int line, const std::string &problem) const {
    return make_error(policy_.source + " line " + std::to_string(line) + ": " + problem);
  }

  Status parse_line(int line, std::string_view text) {
    size_t hash = text.find('#');
    std::string rule = trimmed(text.substr(0, hash));
    std::string comment = hash == std::string_view::npos ? std::string() : trimmed(text.substr(hash + 1));
    if (rule.empty()) {
      // A blank line, an empty '#' line and a '# --- heading ---' each end a block.
      if (hash == std::string_view::npos || comment.empty() || comment.rfind("---", 0) == 0) {
        comment_block_.clear();
        last_was_rule_ = false;
      } else {
        if (last_was_rule_) comment_block_.clear();
        comment_block_ += (comment_block_.empty() ? "" : " ") + comment;
        last_was_rule_ = false;
      }
      return {};
    }
    last_was_rule_ = true;
    return parse_rule(line, tokens_of(rule));
  }

  Status parse_rule(int line, const std::vector<std::string> &tokens) {
    SeccompRule shape;
    shape.line = line;
    shape.reason = comment_block_;
    size_t first_call = 1;
    const std::string &verb = tokens[0];
    if (verb == "allow") {
      shape.verb = SeccompVerb::kAllow;
    } else if (verb == "kill") {
      shape.verb = SeccompVerb::kKill;
    } else if (verb == "errno") {
      shape.verb = SeccompVerb::kErrno;
      if (tokens.size() < 2) return fail(error_at(line, "'errno' needs an errno name and system calls, e.g. errno ENOSYS clone3"));
      shape.errno_value = errno_from_name(tokens[1]);
      if (shape.errno_value == 0)
        return fail(error_at(line, "'" + tokens[1] + "' is not an errno name; use one such as EPERM, ENOSYS or EACCES"));
      first_call = 2;
    } else {
      return fail(error_at(line, "'" + verb + "' is not a verb; a rule starts with allow, errno or kill"));
    }

    size_t if_at = first_call;
    while (if_at < tokens.size() && tokens[if_at] != "if") ++if_at;
    std::vector<std::string> calls(tokens.begin() + static_cast<long>(first_call), tokens.begin() + static_cast<long>(if_at));
    if (calls.empty()) return fail(error_at(line, "'" + verb + "' names no system call"));
    if (if_at < tokens.size()) {
      if (calls.size() > 1)
        return fail(error_at(line, "a condition belongs to one system call; give '" + calls[0] + "' and '" +
                                       calls[1] + "' a line each"));
      std::vector<std::string> condition(tokens.begin() + static_cast<long>(if_at) + 1, tokens.end());
      TRY_ASSIGN(shape.conditions, parse_conditions(line, condition));
    }
    for (const std::string &call : calls) TRY_STATUS(add(shape, call));
    return {};
  }

  Result<std::vector<SeccompCondition>> parse_conditions(int line, const std::vector<std::string> &tokens) {
    std::vector<SeccompCondition> conditions;
    std::vector<std::string> current;
    for (size_t i = 0; i <= tokens.size(); ++i) {
      if (i < tokens.size() && tokens[i] != "and") {
        current.push_back(tokens[i]);
        continue;
      }
      auto condition = parse_condition(current);
      if (!condition) {
        std::string shown;
        for (const std::string &token : current) shown += (shown.empty() ? "" : " ") + token;
        return fail(error_at(line, "'" + shown + "' is not a condition; " + condition.error().message));
      }
      conditions.push_back(*condition);
      current.clear();
    }
    if (conditions.size() > 6) return fail(error_at(line, "a rule takes at most 6 conditions, one per argument"));
    return conditions;
  }

  static Result<SeccompCondition> parse_condition(const std::vector<std::string> &tokens) {
    SeccompCondition condition;
    if (tokens.size() != 3 && tokens.size() != 5) return fail(make_error(kConditionForm));
    const std::string &argument = tokens[0];
    if (argument.size() != 4 || argument.compare(0, 3, "arg") != 0 || argument[3] < '0' || argument[3] > '5')
      return fail(make_error(kConditionForm));
    condition.argument = static_cast<unsigned>(argument[3] - '0');
    size_t compare_at = 1;
    if (tokens.size() == 5) {
      if (tokens[1] != "&" || tokens[3] != "==") return fail(make_error(kConditionForm));
      auto mask = parse_value(tokens[2]);
      if (!mask) return fail(make_error("'" + tokens[2] + "' is not a number or a known name (" + known_constant_names() + ")"));
      condition.compare = SeccompCondition::Compare::kMaskedEqual;
      condition.mask = *mask;
      compare_at = 3;
    } else if (tokens[1] == "==") {
      condition.compare = SeccompCondition::Compare::kEqual;
    } else if (tokens[1] == "!=") {
      condition.compare = SeccompCondition::Compare::kNotEqual;
    } else {
      return fail(make_error(kConditionForm));
    }
    auto value = parse_value(tokens[compare_at + 1]);
    if (!value)
      return fail(make_error("'" + tokens[compare_at + 1] + "' is not a number or a known name (" + known_constant_names() + ")"));
    condition.value = *value;
    return condition;
  }

  Status add(const SeccompRule &shape, const std::string &call) {
    SeccompRule rule = shape;
    rule.syscall = call;
    rule.number = native_syscall_number(call);
    if (rule.number < 0)
      return fail(error_at(rule.line, "'" + call + "' is not a system call on " + native_architecture_name()));
    if (auto earlier = first_line_.find(call); earlier != first_line_.end()) {
      const SeccompRule &other = policy_.rules[earlier->second];
      bool alternatives = !other.conditions.empty() && !rule.conditions.empty() && other.verb == rule.verb &&
                          other.errno_value == rule.errno_value;
      if (!alternatives)
        return fail(error_at(rule.line, "'" + call + "' is already listed on line " + std::to_string(other.line) +
                                            "; list a call once, or only in 'if' lines of the same verb"));
    } else {
      first_line_[call] = policy_.rules.size();
    }
    policy_.rules.push_back(std::move(rule));
    return {};
  }

  // The sandbox installs the filter and then executes the function, through one of these two.
  Status check_exec_allowed() const {
    for (const char *call : {"execve", "execveat"}) {
      const SeccompRule *rule = policy_.find(call);
      if (rule == nullptr || rule->verb != SeccompVerb::kAllow || !rule->conditions.empty())
        return fail(make_error(policy_.source + ": '" + call +
                               "' must be allowed outright, because the sandbox executes the function (execveat "
                               "for a binary, execve for a script) after it has installed the filter"));
    }
    return {};
  }

  SeccompPolicy policy_;
  std::map<std::string, size_t> first_line_;  // call -> index of its first rule
  std::string comment_block_;
  bool last_was_rule_ = false;
};

}  // namespace

Result<SeccompPolicy> parse_seccomp_policy(std::string_view text, const std::string &source) {
  return PolicyParser(source).parse(text);
}

}  // namespace hutch
