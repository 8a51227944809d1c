// The seccomp policy file: its parser (every error names the line and the problem), the default policy's
// content, and the per-function additions (which calls may be added, and the merged policy).
#include "sandbox/seccomp_policy.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/socket.h>

#include <set>

namespace hutch {
namespace {

// Every policy must let the sandbox exec the function; tests prepend this to the lines under test.
constexpr const char kExec[] = "allow execve execveat\n";

SeccompPolicy parsed(const std::string &text) {
  auto policy = parse_seccomp_policy(std::string(kExec) + text, "test.seccomp");
  EXPECT_TRUE(policy) << policy.error().message;
  return policy ? *policy : SeccompPolicy{};
}

// The error for `text`, whose first line is line 2 (after kExec).
std::string error_of(const std::string &text) {
  auto policy = parse_seccomp_policy(std::string(kExec) + text, "test.seccomp");
  if (policy) return "(parsed without error)";
  return policy.error().message;
}

TEST(SeccompPolicyParser, VerbsConditionsAndComments) {
  SeccompPolicy policy = parsed(
      "# Reading.\n"
      "allow read write   # trailing comment\n"
      "\n"
      "errno ENOSYS clone3\n"
      "kill ptrace\n"
      "allow clone if arg0 & CLONE_NEWNS|CLONE_NEWPID == 0\n"
      "allow socket if arg0 == AF_UNIX and arg2 != 0x10\n"
      "allow socket if arg0 == 2\n");
  EXPECT_EQ(policy.source, "test.seccomp");
  ASSERT_NE(policy.find("read"), nullptr);
  EXPECT_EQ(policy.find("read")->verb, SeccompVerb::kAllow);
  EXPECT_EQ(policy.find("read")->line, 3);
  EXPECT_EQ(policy.find("read")->reason, "Reading.");
  EXPECT_EQ(policy.find("write")->number, native_syscall_number("write"));
  EXPECT_EQ(policy.find("clone3")->verb, SeccompVerb::kErrno);
  EXPECT_EQ(policy.find("clone3")->errno_value, ENOSYS);
  EXPECT_EQ(policy.find("clone3")->reason, "") << "a blank line ends a comment block";
  EXPECT_EQ(policy.find("ptrace")->verb, SeccompVerb::kKill);

  const SeccompRule *clone = policy.find("clone");
  ASSERT_EQ(clone->conditions.size(), 1u);
  EXPECT_EQ(clone->conditions[0].argument, 0u);
  EXPECT_EQ(clone->conditions[0].compare, SeccompCondition::Compare::kMaskedEqual);
  EXPECT_EQ(clone->conditions[0].mask, static_cast<uint64_t>(CLONE_NEWNS | CLONE_NEWPID));
  EXPECT_EQ(clone->conditions[0].value, 0u);

  const SeccompRule *socket = policy.find("socket");
  ASSERT_EQ(socket->conditions.size(), 2u);
  EXPECT_EQ(socket->conditions[0].value, static_cast<uint64_t>(AF_UNIX));
  EXPECT_EQ(socket->conditions[1].argument, 2u);
  EXPECT_EQ(socket->conditions[1].compare, SeccompCondition::Compare::kNotEqual);
  EXPECT_EQ(socket->conditions[1].value, 0x10u);
  size_t socket_rules = 0;
  for (const SeccompRule &rule : policy.rules) socket_rules += rule.syscall == "socket";
  EXPECT_EQ(socket_rules, 2u) << "'if' lines of one call are alternatives";

  EXPECT_EQ(policy.count(SeccompVerb::kAllow), 6u);  // execve execveat read write clone socket
  EXPECT_EQ(policy.count(SeccompVerb::kKill), 1u);
  EXPECT_EQ(policy.count(SeccompVerb::kErrno), 1u);
}

TEST(SeccompPolicyParser, AReasonIsTheCommentBlockSinceTheLastRule) {
  SeccompPolicy policy = parsed(
      "# Group heading.\n"
      "# More about it.\n"
      "kill ptrace\n"
      "# Another reason.\n"
      "kill mount\n"
      "kill umount2\n");
  EXPECT_EQ(policy.find("ptrace")->reason, "Group heading. More about it.");
  EXPECT_EQ(policy.find("mount")->reason, "Another reason.");
  EXPECT_EQ(policy.find("umount2")->reason, "Another reason.");
}

TEST(SeccompPolicyParser, ErrorsNameTheLineAndTheProblem) {
  EXPECT_EQ(error_of("allow read\nallow fooo\n"),
            "test.seccomp line 3: 'fooo' is not a system call on " + native_architecture_name());
  EXPECT_EQ(error_of("alow read\n"), "test.seccomp line 2: 'alow' is not a verb; a rule starts with allow, errno or kill");
  EXPECT_EQ(error_of("allow\n"), "test.seccomp line 2: 'allow' names no system call");
  EXPECT_EQ(error_of("allow if arg0 == 1\n"), "test.seccomp line 2: 'allow' names no system call");
  EXPECT_EQ(error_of("errno\n"),
            "test.seccomp line 2: 'errno' needs an errno name and system calls, e.g. errno ENOSYS clone3");
  EXPECT_EQ(error_of("errno ENOPE clone3\n"),
            "test.seccomp line 2: 'ENOPE' is not an errno name; use one such as EPERM, ENOSYS or EACCES");
  EXPECT_EQ(error_of("allow read\nkill read\n"),
            "test.seccomp line 3: 'read' is already listed on line 2; list a call once, or only in 'if' lines of "
            "the same verb");
  EXPECT_EQ(error_of("allow socket if arg0 == 1\nkill socket if arg0 == 2\n"),
            "test.seccomp line 3: 'socket' is already listed on line 2; list a call once, or only in 'if' lines "
            "of the same verb");
  EXPECT_EQ(error_of("allow socket if arg0 == 1\nallow socket\n"),
            "test.seccomp line 3: 'socket' is already listed on line 2; list a call once, or only in 'if' lines "
            "of the same verb");
  EXPECT_EQ(error_of("allow execve\n"),
            "test.seccomp line 2: 'execve' is already listed on line 1; list a call once, or only in 'if' lines "
            "of the same verb");
  EXPECT_EQ(error_of("allow socket bind if arg0 == 1\n"),
            "test.seccomp line 2: a condition belongs to one system call; give 'socket' and 'bind' a line each");
  const std::string form =
      "write argN == V, argN != V or argN & MASK == V, with N from 0 to 5, and join conditions with 'and'";
  EXPECT_EQ(error_of("allow socket if arg6 == 1\n"), "test.seccomp line 2: 'arg6 == 1' is not a condition; " + form);
  EXPECT_EQ(error_of("allow socket if arg0 < 1\n"), "test.seccomp line 2: 'arg0 < 1' is not a condition; " + form);
  EXPECT_EQ(error_of("allow socket if arg0 == 1 and\n"), "test.seccomp line 2: '' is not a condition; " + form);
  EXPECT_EQ(error_of("allow clone if arg0 & 3 != 0\n"),
            "test.seccomp line 2: 'arg0 & 3 != 0' is not a condition; " + form);
  std::string bad_value = error_of("allow clone if arg0 & CLONE_NEWFOO == 0\n");
  EXPECT_EQ(bad_value.rfind("test.seccomp line 2: 'arg0 & CLONE_NEWFOO == 0' is not a condition; 'CLONE_NEWFOO' is "
                            "not a number or a known name (CLONE_NEWNS, ",
                            0),
            0u)
      << bad_value;
  EXPECT_NE(error_of("allow socket if arg0 == 12abc\n").find("'12abc' is not a number"), std::string::npos);
  EXPECT_NE(error_of("allow socket if arg0 == 1||2\n").find("'1||2' is not a number"), std::string::npos);
}

TEST(SeccompPolicyParser, ThePolicyMustLetTheSandboxExecTheFunction) {
  auto policy = parse_seccomp_policy("allow read execve\n", "mine.seccomp");
  ASSERT_FALSE(policy);
  EXPECT_EQ(policy.error().message,
            "mine.seccomp: 'execveat' must be allowed outright, because the sandbox executes the function "
            "(execveat for a binary, execve for a script) after it has installed the filter");
  EXPECT_FALSE(parse_seccomp_policy("allow execveat\nallow execve if arg0 == 0\n", "mine.seccomp"));
  EXPECT_FALSE(parse_seccomp_policy("", "empty.seccomp"));
}

TEST(SeccompDefaultPolicy, ParsesAndDecidesWhatIssueThreeAsks) {
  auto policy = default_seccomp_policy();
  ASSERT_TRUE(policy) << policy.error().message;
  EXPECT_EQ(policy->source, "default.seccomp");
  EXPECT_GE(policy->count(SeccompVerb::kAllow), 200u);
  // Today's kill set, and the new mount API beside the old.
  for (const char *call : {"ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root",
                           "open_by_handle_at", "setns", "unshare", "reboot", "kexec_load", "kexec_file_load",
                           "swapon", "swapoff", "init_module", "finit_module", "delete_module", "bpf",
                           "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key", "fsopen",
                           "fsmount", "move_mount", "open_tree"}) {
    const SeccompRule *rule = policy->find(call);
    ASSERT_NE(rule, nullptr) << call;
    EXPECT_EQ(rule->verb, SeccompVerb::kKill) << call;
    EXPECT_FALSE(rule->reason.empty()) << call << " needs a comment saying why";
  }
  EXPECT_EQ(policy->find("clone3")->verb, SeccompVerb::kErrno);
  EXPECT_EQ(policy->find("clone3")->errno_value, ENOSYS) << "glibc falls back to clone on ENOSYS only";
  const SeccompRule *clone = policy->find("clone");
  ASSERT_EQ(clone->conditions.size(), 1u);
  EXPECT_EQ(clone->conditions[0].mask, static_cast<uint64_t>(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS |
                                                              CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                                                              CLONE_NEWNET));
  EXPECT_EQ(policy->find("io_uring_setup")->verb, SeccompVerb::kErrno);
  // Classic AIO: one pool for the whole machine, so no job may take from it (issue 10).
  for (const char *call : {"io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents"}) {
    ASSERT_NE(policy->find(call), nullptr) << call;
    EXPECT_EQ(policy->find(call)->verb, SeccompVerb::kErrno) << call;
    EXPECT_EQ(policy->find(call)->errno_value, ENOSYS) << call << ": what a kernel without AIO answers";
  }
  // What a normal program needs: a sample of what glibc, threads and interpreters call.
  for (const char *call : {"read", "write", "openat", "mmap", "mprotect", "brk", "futex", "rseq", "getrandom",
                           "prlimit64", "set_robust_list", "execve", "execveat", "exit_group", "wait4", "vfork",
                           "newfstatat", "statx", "pipe2", "dup2", "rt_sigaction", "clock_nanosleep", "madvise"}) {
    const SeccompRule *rule = policy->find(call);
    ASSERT_NE(rule, nullptr) << call;
    EXPECT_EQ(rule->verb, SeccompVerb::kAllow) << call;
    EXPECT_TRUE(rule->conditions.empty()) << call;
  }
  // Left out: these fail with EPERM.
  for (const char *call : {"acct", "syslog", "quotactl", "vhangup", "chroot", "settimeofday", "sync"}) {
    EXPECT_EQ(policy->find(call), nullptr) << call;
  }
}

TEST(SeccompAllow, ParsesAndChecksAList) {
  auto policy = default_seccomp_policy();
  ASSERT_TRUE(policy);
  auto calls = parse_seccomp_allow("quotactl, acct,quotactl ,read", *policy);
  ASSERT_TRUE(calls) << calls.error().message;
  EXPECT_EQ(*calls, (std::vector<std::string>{"acct", "quotactl", "read"})) << "sorted, without repeats";
}

TEST(SeccompAllow, RefusesWithASentence) {
  auto policy = default_seccomp_policy();
  ASSERT_TRUE(policy);
  auto error_of_list = [&](const std::string &list) {
    auto calls = parse_seccomp_allow(list, *policy);
    return calls ? std::string("(accepted)") : calls.error().message;
  };
  EXPECT_EQ(error_of_list("acct,fooo"), "'fooo' is not a system call on " + native_architecture_name());
  EXPECT_EQ(error_of_list("Acct"), "'Acct' is not a system call on " + native_architecture_name());
  EXPECT_EQ(error_of_list(""), "'' has an empty name; give system calls separated by commas, e.g. acct,quotactl");
  EXPECT_EQ(error_of_list("acct,,quotactl"),
            "'acct,,quotactl' has an empty name; give system calls separated by commas, e.g. acct,quotactl");
  std::string ptrace = error_of_list("acct,ptrace");
  EXPECT_EQ(ptrace.rfind("'ptrace' is in the kill set (default.seccomp line ", 0), 0u) << ptrace;
  EXPECT_NE(ptrace.find(": \"Inspecting or steering another process.\"), which no function can be allowed"),
            std::string::npos)
      << ptrace;
  std::string clone3 = error_of_list("clone3");
  EXPECT_EQ(clone3.rfind("'clone3' is answered with ENOSYS on purpose (default.seccomp line ", 0), 0u) << clone3;
  EXPECT_NE(clone3.find("so a function cannot be allowed it"), std::string::npos) << clone3;
  std::string clone = error_of_list("clone");
  EXPECT_EQ(clone.rfind("'clone' runs only with some arguments (default.seccomp line ", 0), 0u) << clone;
  EXPECT_NE(clone.find("allowing it outright would drop that condition"), std::string::npos) << clone;
  EXPECT_NE(error_of_list("io_uring_setup").find("answered with EPERM on purpose"), std::string::npos);
}

TEST(SeccompAllow, MergingAddsOutrightAllowsAndKeepsTheRest) {
  SeccompPolicy policy = parsed("allow read\nkill ptrace\nallow socket if arg0 == 1\n");
  auto merged = with_allowed(policy, {"acct", "read", "quotactl"});
  ASSERT_TRUE(merged) << merged.error().message;
  ASSERT_NE(merged->find("acct"), nullptr);
  EXPECT_EQ(merged->find("acct")->verb, SeccompVerb::kAllow);
  EXPECT_TRUE(merged->find("acct")->conditions.empty());
  EXPECT_EQ(merged->find("acct")->number, native_syscall_number("acct"));
  EXPECT_EQ(merged->find("quotactl")->verb, SeccompVerb::kAllow);
  EXPECT_EQ(merged->rules.size(), policy.rules.size() + 2) << "read was already allowed";
  EXPECT_EQ(merged->find("ptrace")->verb, SeccompVerb::kKill);
  EXPECT_EQ(merged->find("socket")->conditions.size(), 1u);
  EXPECT_EQ(policy.find("acct"), nullptr) << "the base policy is untouched";

  auto refused = with_allowed(policy, {"acct", "ptrace"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message.rfind("'ptrace' is in the kill set (test.seccomp line 3)", 0), 0u)
      << refused.error().message;
  EXPECT_FALSE(with_allowed(policy, {"socket"}));
}

TEST(SeccompNames, NativeNumbers) {
  EXPECT_GE(native_syscall_number("read"), 0);
  EXPECT_EQ(native_syscall_number("fooo"), -1);
  EXPECT_EQ(native_syscall_number(""), -1);
  EXPECT_EQ(native_syscall_number("READ"), -1);
#if defined(__x86_64__)
  EXPECT_EQ(native_architecture_name(), "x86_64");
  EXPECT_EQ(native_syscall_number("socketcall"), -1) << "an i386 call, not an x86_64 one";
#endif
}

}  // namespace
}  // namespace hutch
