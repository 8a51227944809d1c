// The seccomp allowlist in real sandboxes (issue 3): an unlisted call fails with EPERM, the same call allowed
// for one function runs, the kill set still kills and the record names the call, other ABIs kill, clone3
// answers ENOSYS and clone refuses namespaces, and normal programs (threads in C++, static and dynamic,
// OpenCV, python3, /bin/sh, perl) run under the policy. hutchd refuses at start-up what may not be allowed.
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/hutch_test.h"
#include "tests/support/process.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;
using namespace std::chrono_literals;

// forbidden_syscall's report of a call that returned: {"call", "returned", "errno"}.
nlohmann::json call_report(Fields &record) {
  EXPECT_EQ(record["status"], "failed") << "forbidden_syscall exits 3 when its call returns: " << record["error"];
  EXPECT_EQ(record["exit_code"], "3");
  nlohmann::json output = nlohmann::json::parse(record["output"], nullptr, /*allow_exceptions=*/false);
  EXPECT_TRUE(output.is_object()) << record["output"];
  return output.is_object() ? output : nlohmann::json::object();
}

class SeccompTest : public HutchTest {
 protected:
  HutchdOptions hutchd_options() override {
    HutchdOptions options = HutchTest::hutchd_options();
    // The same program twice: once under the default policy, once allowed quotactl and acct.
    options.functions.emplace_back("quota_tool", FORBIDDEN_SYSCALL_PATH);
    options.functions.emplace_back("everyday", EVERYDAY_PATH);
    options.functions.emplace_back("everyday_static", EVERYDAY_STATIC_PATH);
    options.functions.emplace_back("opencv_pipeline", OPENCV_PIPELINE_PATH);
    options.functions.emplace_back("exec_argv", EXEC_ARGV_PATH);
    options.extra_args = {"--seccomp-allow", "quota_tool=quotactl,acct"};
    return options;
  }

  Fields run_call(const std::string &function, const std::string &call) {
    return run_job({{"function", function}, {"input", R"({"call":")" + call + R"("})"}});
  }

  // Runs `argv` through exec_argv and expects success with `output`.
  void expect_interpreter_runs(const nlohmann::json &argv, const std::string &output) {
    Fields record = run_job({{"function", "exec_argv"}, {"input", nlohmann::json{{"argv", argv}}.dump()}}, 60s);
    EXPECT_EQ(record["status"], "succeeded") << record["error"] << "\n" << logs_of(record["id"]);
    EXPECT_EQ(record["output"], output);
  }

  std::string logs_of(const std::string &id) {
    std::string lines;
    for (const auto &entry : redis().xrange(RedisClient::logs_key(id))) lines += entry.get("line") + "\n";
    return lines;
  }
};

TEST_F(SeccompTest, AnUnlistedCallFailsWithEperm) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_call("forbidden_syscall", "quotactl");
  nlohmann::json report = call_report(record);
  EXPECT_EQ(report.value("returned", 0), -1);
  EXPECT_EQ(report.value("errno", 0), EPERM) << "the filter answers for a call the policy does not list";
}

TEST_F(SeccompTest, TheSameCallAllowedForAFunctionRuns) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_call("quota_tool", "quotactl");
  nlohmann::json report = call_report(record);
  EXPECT_EQ(report.value("returned", 0), -1);
  // The kernel ran it: the mount point does not exist, which it says before any capability check.
  EXPECT_EQ(report.value("errno", 0), ENOENT);
  EXPECT_TRUE(hutchd().wait_for_log("seccomp: function 'quota_tool' also allows acct,quotactl", 1s))
      << hutchd().log_text();
}

TEST_F(SeccompTest, TheKillSetStillKillsAFunctionWithExtraCalls) {
  HUTCH_REQUIRE_ROOT();
  for (const char *function : {"quota_tool", "forbidden_syscall"}) {
    SCOPED_TRACE(function);
    Fields record = run_call(function, "bpf");
    EXPECT_EQ(record["status"], "killed") << record["error"];
    EXPECT_EQ(record["signal"], "SIGSYS");
    // The audit log names the call unless the kernel rate-limited it.
    if (record["error"].find("forbidden system call") != std::string::npos) {
      EXPECT_THAT(record["error"], HasSubstr("the forbidden system call bpf (seccomp)"));
    }
  }
  EXPECT_TRUE(hutchd().wait_for_log("seccomp: the audit log names killing calls", 1s))
      << "this machine's audit log is readable, so the record must name the call";
  Fields named = run_call("forbidden_syscall", "open_tree");
  EXPECT_EQ(named["status"], "killed");
  EXPECT_THAT(named["error"], HasSubstr("open_tree"));
}

TEST_F(SeccompTest, AnX32CallIsKilledNotRun) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_call("forbidden_syscall", "x32_getpid");
  EXPECT_EQ(record["status"], "killed") << "a return (even ENOSYS from a kernel without x32) means the filter "
                                           "let the call reach the kernel: " << record["error"];
  EXPECT_EQ(record["signal"], "SIGSYS");
  if (record["error"].find("forbidden system call") != std::string::npos) {
    EXPECT_THAT(record["error"], HasSubstr("getpid through the x32 ABI"));
  }
}

TEST_F(SeccompTest, Clone3AnswersEnosysAndCloneRefusesNamespaces) {
  HUTCH_REQUIRE_ROOT();
  Fields clone3 = run_call("forbidden_syscall", "clone3");
  EXPECT_EQ(call_report(clone3).value("errno", 0), ENOSYS) << "glibc falls back to clone on ENOSYS";
  Fields clone = run_call("forbidden_syscall", "clone_newuser");
  EXPECT_EQ(call_report(clone).value("errno", 0), EPERM) << "run, the kernel would answer EINVAL";
}

TEST_F(SeccompTest, ThreadedCppProgramsRunStaticAndDynamic) {
  HUTCH_REQUIRE_ROOT();
  for (const char *function : {"everyday", "everyday_static"}) {
    SCOPED_TRACE(function);
    Fields record = run_job({{"function", function}, {"input", R"({"threads":4})"}});
    EXPECT_EQ(record["status"], "succeeded") << record["error"] << "\n" << logs_of(record["id"]);
    EXPECT_EQ(record["output"], R"({"child_exit":0,"loopback_bytes":5,"sum":50005000,"threads":4})");
  }
}

TEST_F(SeccompTest, AnOpenCvPipelineRuns) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "opencv_pipeline"}, {"input", R"({"size":256})"}}, 60s);
  EXPECT_EQ(record["status"], "succeeded") << record["error"] << "\n" << logs_of(record["id"]);
  nlohmann::json output = nlohmann::json::parse(record["output"], nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(output.is_object()) << record["output"];
  EXPECT_EQ(output.value("width", 0), 128);
  EXPECT_GT(output.value("png_bytes", 0), 1000);
  EXPECT_GT(output.value("jpeg_bytes", 0), 100);
}

TEST_F(SeccompTest, Python3RunsWithThreadsAndSubprocesses) {
  HUTCH_REQUIRE_ROOT();
  const char *script =
      "import json, os, subprocess, threading\n"
      "results = []\n"
      "threads = [threading.Thread(target=lambda n=n: results.append(n * n)) for n in range(4)]\n"
      "for t in threads: t.start()\n"
      "for t in threads: t.join()\n"
      "echo = subprocess.run(['/bin/sh', '-c', 'echo from-sh'], capture_output=True, text=True).stdout.strip()\n"
      "os.write(int(os.environ['HUTCH_RESULT_FD']), json.dumps({'squares': sorted(results), 'echo': echo}).encode())\n";
  expect_interpreter_runs({"/usr/bin/python3", "-c", script}, R"({"squares": [0, 1, 4, 9], "echo": "from-sh"})");
}

TEST_F(SeccompTest, ShellAndCoreutilsRun) {
  HUTCH_REQUIRE_ROOT();
  const char *script =
      "set -e\n"
      "cd /tmp && mkdir d && seq 1 5 | sort -r > d/numbers && cp d/numbers d/copy && mv d/copy d/moved\n"
      "lines=$(wc -l < d/moved) && top=$(head -n 1 d/moved) && rm -r d\n"
      "date +%s > /dev/null && id -u > /dev/null && ls / > /dev/null\n"
      "printf '{\"lines\":%s,\"top\":%s}' \"$lines\" \"$top\" >&3\n";
  expect_interpreter_runs({"/bin/sh", "-c", script}, R"({"lines":5,"top":5})");
}

TEST_F(SeccompTest, PerlRuns) {
  HUTCH_REQUIRE_ROOT();
  const char *script =
      "use strict; use POSIX ();\n"
      "my $pid = fork(); exit 7 if $pid == 0; waitpid($pid, 0);\n"
      "open(my $out, '>&=', 3) or die; print $out '{\"child\":' . ($? >> 8) . '}';\n";
  expect_interpreter_runs({"/usr/bin/perl", "-e", script}, R"({"child":7})");
}

// hutchd refuses, at start-up and with a sentence, what a function may not be allowed. No Redis is needed:
// the policy is checked before hutchd connects.
class SeccompStartupTest : public HutchTest {
 protected:
  bool start_hutchd_in_set_up() override { return false; }

  CommandResult start_with(const std::vector<std::string> &extra) {
    HutchdOptions options = hutchd_options();
    options.extra_args = extra;
    return run_command(options.argv(), 20s, options.environment);
  }
};

TEST_F(SeccompStartupTest, RefusesKillSetAndUnknownCallsPerFunction) {
  CommandResult ptrace = start_with({"--seccomp-allow", "forbidden_syscall=acct,ptrace"});
  EXPECT_EQ(ptrace.exit_code(), 1) << ptrace.err;
  EXPECT_THAT(ptrace.err, HasSubstr("cannot start: seccomp: --seccomp-allow forbidden_syscall=acct,ptrace: 'ptrace' "
                                    "is in the kill set (default.seccomp line "));
  EXPECT_THAT(ptrace.err, HasSubstr("which no function can be allowed"));

  CommandResult unknown = start_with({"--seccomp-allow", "forbidden_syscall=fooo"});
  EXPECT_EQ(unknown.exit_code(), 1) << unknown.err;
  EXPECT_THAT(unknown.err, HasSubstr("'fooo' is not a system call on x86_64"));

  CommandResult clone = start_with({"--seccomp-allow", "forbidden_syscall=clone"});
  EXPECT_THAT(clone.err, HasSubstr("'clone' runs only with some arguments"));

  CommandResult nobody = start_with({"--seccomp-allow", "nobody=acct"});
  EXPECT_EQ(nobody.exit_code(), 1) << nobody.err;
  EXPECT_THAT(nobody.err, HasSubstr("function 'nobody' is not registered"));
}

TEST_F(SeccompStartupTest, ABrokenPolicyFileIsRefusedWithItsLine) {
  TempDir directory("hutch-seccomp-test");
  std::string path = directory.path() + "/broken.seccomp";
  std::ofstream(path) << "# a policy\nallow execve execveat\nallow fooo\n";
  CommandResult broken = start_with({"--seccomp-policy", path});
  EXPECT_EQ(broken.exit_code(), 1) << broken.err;
  EXPECT_THAT(broken.err, HasSubstr(path + " line 3: 'fooo' is not a system call on x86_64"));
  CommandResult missing = start_with({"--seccomp-policy", directory.path() + "/missing.seccomp"});
  EXPECT_EQ(missing.exit_code(), 1) << missing.err;
  EXPECT_THAT(missing.err, HasSubstr("--seccomp-policy"));
}

// Another policy file replaces the default for every function: here the default plus quotactl.
TEST_F(SeccompStartupTest, AnotherPolicyFileGovernsEveryFunction) {
  HUTCH_REQUIRE_ROOT();
  TempDir directory("hutch-seccomp-test");
  std::string path = directory.path() + "/mine.seccomp";
  std::ifstream default_policy(DEFAULT_SECCOMP_POLICY_PATH);
  ASSERT_TRUE(default_policy) << DEFAULT_SECCOMP_POLICY_PATH;
  std::ofstream(path) << default_policy.rdbuf() << "\n# This deployment's quota tools.\nallow quotactl\n";
  HutchdOptions options = hutchd_options();
  options.extra_args = {"--seccomp-policy", path};
  ASSERT_TRUE(start_hutchd(options));
  EXPECT_TRUE(hutchd().wait_for_log("seccomp: " + path + ": ", 1s)) << hutchd().log_text();
  Fields record = run_job({{"function", "forbidden_syscall"}, {"input", R"({"call":"quotactl"})"}});
  EXPECT_EQ(call_report(record).value("errno", 0), ENOENT);
}

}  // namespace
}  // namespace hutch::test
