// Attacks through the kernel's system call interface (issue 3: 7, 11): the calls that reach past the job,
// and a call through the 32-bit ABI. The seccomp filter is the first layer; the missing capabilities the
// second. A call may be killed (SIGSYS, the record naming it) or denied (EPERM and the like, with no
// effect), but it must never succeed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>

#include "gmock/gmock.h"
#include "tests/security/security_test.h"

using namespace std::chrono_literals;
using testing::HasSubstr;

namespace hutch::test {
namespace {

// What the record says when the kernel's audit log did not name the call (it rate-limits, or /dev/kmsg
// is not readable).
constexpr const char *kUnnamedCallSentence = "it made a system call the sandbox forbids (seccomp)";

bool logged_line(RedisClient &redis, const std::string &id, const std::string &line) {
  for (const auto &entry : redis.xrange(RedisClient::logs_key(id)))
    if (entry.get("line") == line) return true;
  return false;
}

// The control: how the attack ends on the host, outside any sandbox. A kernel built without the 32-bit ABI
// (ia32_emulation off, as on some VMs) answers int 0x80 with a general protection fault, SIGSEGV.
bool host_kernel_has_the_i386_abi() {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(INT80_SYSCALL_PATH, INT80_SYSCALL_PATH, static_cast<char *>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return true;  // unknown: expect the stricter answer
  return !(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
}

// A system call through the 32-bit ABI is not a way around the filter: the process is killed by SIGSYS.
// Where the host's kernel has no 32-bit ABI at all, the kernel kills it first (SIGSEGV), in the sandbox as
// on the host; the call never runs either way.
TEST_F(SecurityTest, Int80SyscallIsKilledNotRun) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "int80_syscall"}, {"timeout", "10"}});
  EXPECT_EQ(record["status"], "killed") << record["error"];
  if (!host_kernel_has_the_i386_abi()) {
    RecordProperty("i386_abi", "absent from this kernel: int 0x80 is SIGSEGV on the host too");
    EXPECT_EQ(record["signal"], "SIGSEGV");
    EXPECT_EQ(record["error"], "the function was killed by SIGSEGV");
    expect_hutchd_still_serves();
    return;
  }
  EXPECT_EQ(record["signal"], "SIGSYS");
  EXPECT_NE(record["error"].find("SIGSYS"), std::string::npos) << record["error"];
  // When the kernel's audit log named the call (it may rate-limit), the name must be i386's: its call 20 is
  // getpid, where x86_64's 20 would be writev.
  bool call_named = record["error"].find("the forbidden system call") != std::string::npos;
  if (call_named) {
    EXPECT_NE(record["error"].find("getpid through the i386 ABI"), std::string::npos) << record["error"];
  } else {
    EXPECT_THAT(record["error"], HasSubstr(kUnnamedCallSentence));
  }
  expect_hutchd_still_serves();
}

// Each call is its own job (two run at a time). Killed: SIGSYS, and the sentence names this call or, without
// the audit record, says a forbidden call was made. Denied: the program reports EPERM, EACCES or ENOSYS
// and that nothing changed.
TEST_F(SecurityTest, PrivilegedCallsAreKilledOrDeniedNeverRun) {
  HUTCH_REQUIRE_ROOT();
  std::map<std::string, std::string> jobs;
  for (const char *call :
       {"ptrace", "mount", "unshare", "setns", "bpf", "keyctl", "reboot", "kexec_load", "kexec_file_load"}) {
    jobs[call] = redis().xadd_job(
        {{"function", "privileged_calls"}, {"input", nlohmann::json{{"call", call}}.dump()}, {"timeout", "10"}});
  }
  for (const auto &[call, id] : jobs) {
    SCOPED_TRACE(call);
    Fields record = redis().wait_for_final(id, 30s);
    EXPECT_TRUE(logged_line(redis(), id, "calling " + call)) << "the program got as far as the call";
    if (record["status"] == "killed") {
      EXPECT_EQ(record["signal"], "SIGSYS");
      if (record["error"].find("the forbidden system call") != std::string::npos)
        EXPECT_THAT(record["error"], HasSubstr("the forbidden system call " + call + " (seccomp)"));
      else
        EXPECT_THAT(record["error"], HasSubstr(kUnnamedCallSentence));
      continue;
    }
    SCOPED_TRACE("neither killed nor denied");
    expect_denied_without_error(record);
    nlohmann::json output = output_of(record);
    EXPECT_THAT(output.value("errno", "none"), testing::AnyOf("EPERM", "EACCES", "ENOSYS")) << output.dump();
    EXPECT_EQ(output.value("effect", true), false) << output.dump();
  }
  expect_hutchd_still_serves();
}

}  // namespace
}  // namespace hutch::test
