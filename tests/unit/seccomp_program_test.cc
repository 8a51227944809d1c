// The compiled programs, run through a small classic-BPF interpreter on made-up seccomp_data: what the
// kernel would answer for a call, without installing anything. hutch builds its programs itself
// (sandbox/seccomp_bpf.h says why); libseccomp's generator is the reference they must agree with. The
// integration tests (tests/integration/seccomp_test.cc) check the answers in a real sandbox.
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>
#include <string>

#include "sandbox/seccomp.h"
#include "sandbox/seccomp_bpf.h"

namespace hutch {
namespace {

// Runs `program` on `data` as the kernel's seccomp does: classic BPF, forward jumps only, so it ends within
// the program's length. `executed` counts the instructions on the way.
uint32_t run(const sock_fprog &program, const seccomp_data &data, unsigned *executed = nullptr) {
  uint32_t a = 0, x = 0, memory[BPF_MEMWORDS] = {};
  auto word_at = [&](uint32_t offset) {
    uint32_t word = 0;
    if (offset + sizeof word <= sizeof data) std::memcpy(&word, reinterpret_cast<const char *>(&data) + offset, sizeof word);
    return word;
  };
  for (unsigned pc = 0; pc < program.len; ++pc) {
    const sock_filter &instruction = program.filter[pc];
    if (executed != nullptr) ++*executed;
    uint32_t k = instruction.k;
    uint32_t operand = BPF_SRC(instruction.code) == BPF_X ? x : k;
    switch (BPF_CLASS(instruction.code)) {
      case BPF_LD:
        if (BPF_MODE(instruction.code) == BPF_ABS) a = word_at(k);
        else if (BPF_MODE(instruction.code) == BPF_IMM) a = k;
        else if (BPF_MODE(instruction.code) == BPF_MEM) a = memory[k % BPF_MEMWORDS];
        else ADD_FAILURE() << "unexpected load mode at " << pc;
        break;
      case BPF_LDX: x = BPF_MODE(instruction.code) == BPF_MEM ? memory[k % BPF_MEMWORDS] : k; break;
      case BPF_ST: memory[k % BPF_MEMWORDS] = a; break;
      case BPF_STX: memory[k % BPF_MEMWORDS] = x; break;
      case BPF_ALU:
        switch (BPF_OP(instruction.code)) {
          case BPF_AND: a &= operand; break;
          case BPF_OR: a |= operand; break;
          case BPF_ADD: a += operand; break;
          case BPF_SUB: a -= operand; break;
          case BPF_RSH: a >>= operand; break;
          case BPF_LSH: a <<= operand; break;
          default: ADD_FAILURE() << "unexpected ALU operation at " << pc;
        }
        break;
      case BPF_JMP: {
        if (BPF_OP(instruction.code) == BPF_JA) {
          pc += k;
          break;
        }
        bool taken = false;
        switch (BPF_OP(instruction.code)) {
          case BPF_JEQ: taken = a == operand; break;
          case BPF_JGT: taken = a > operand; break;
          case BPF_JGE: taken = a >= operand; break;
          case BPF_JSET: taken = (a & operand) != 0; break;
          default: ADD_FAILURE() << "unexpected jump at " << pc;
        }
        pc += taken ? instruction.jt : instruction.jf;
        break;
      }
      case BPF_RET: return BPF_RVAL(instruction.code) == BPF_A ? a : k;
      case BPF_MISC: if (BPF_MISCOP(instruction.code) == BPF_TAX) x = a; else a = x; break;
      default: ADD_FAILURE() << "unexpected instruction class at " << pc;
    }
  }
  ADD_FAILURE() << "the program ran off its end";
  return 0;
}

seccomp_data call(long number, uint64_t arg0 = 0, uint32_t arch = AUDIT_ARCH_X86_64) {
  seccomp_data data{};
  data.nr = static_cast<int>(number);
  data.arch = arch;
  data.args[0] = arg0;
  return data;
}

// The same policy through libseccomp (2.5, binary tree), as the reference.
std::vector<sock_filter> libseccomp_program(const SeccompPolicy &policy) {
  scmp_filter_ctx context = seccomp_init(SCMP_ACT_ERRNO(EPERM));
  EXPECT_NE(context, nullptr);
  EXPECT_EQ(seccomp_attr_set(context, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS), 0);
  EXPECT_EQ(seccomp_attr_set(context, SCMP_FLTATR_CTL_OPTIMIZE, 2), 0);
  for (const SeccompRule &rule : policy.rules) {
    uint32_t action = rule.verb == SeccompVerb::kAllow  ? SCMP_ACT_ALLOW
                      : rule.verb == SeccompVerb::kKill ? SCMP_ACT_KILL_PROCESS
                                                        : SCMP_ACT_ERRNO(static_cast<uint16_t>(rule.errno_value));
    if (action == SCMP_ACT_ERRNO(EPERM)) continue;
    std::vector<scmp_arg_cmp> comparisons;
    for (const SeccompCondition &condition : rule.conditions) {
      switch (condition.compare) {
        case SeccompCondition::Compare::kEqual: comparisons.push_back({condition.argument, SCMP_CMP_EQ, condition.value, 0}); break;
        case SeccompCondition::Compare::kNotEqual: comparisons.push_back({condition.argument, SCMP_CMP_NE, condition.value, 0}); break;
        case SeccompCondition::Compare::kMaskedEqual:
          comparisons.push_back({condition.argument, SCMP_CMP_MASKED_EQ, condition.mask, condition.value});
          break;
      }
    }
    EXPECT_EQ(seccomp_rule_add_exact_array(context, action, rule.number, static_cast<unsigned>(comparisons.size()),
                                           comparisons.data()),
              0)
        << rule.syscall;
  }
  int fd = ::memfd_create("reference", MFD_CLOEXEC);
  EXPECT_EQ(seccomp_export_bpf(context, fd), 0);
  off_t size = ::lseek(fd, 0, SEEK_END);
  std::vector<sock_filter> filter(static_cast<size_t>(size) / sizeof(sock_filter));
  EXPECT_EQ(::pread(fd, filter.data(), static_cast<size_t>(size), 0), size);
  ::close(fd);
  seccomp_release(context);
  return filter;
}

sock_fprog as_program(std::vector<sock_filter> &filter) {
  return sock_fprog{static_cast<unsigned short>(filter.size()), filter.data()};
}

// Call numbers worth asking about: every real one and beyond, the x32 range, and -1.
std::vector<uint32_t> interesting_numbers() {
  std::vector<uint32_t> numbers;
  for (uint32_t number = 0; number < 1100; ++number) numbers.push_back(number);
  for (uint32_t number : {0u, 1u, 39u, 56u, 435u}) numbers.push_back(0x40000000u | number);
  for (uint32_t number : {0x3fffffffu, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu}) numbers.push_back(number);
  return numbers;
}

// Argument values around the constants the policies compare with.
std::vector<uint64_t> interesting_arguments() {
  std::vector<uint64_t> values = {0, 1, 2, 5, 7, 10, 16, 17, 40, 0x34, 0x1200000034, 0x100000002, 0xffffffff,
                                  0x100000000, 0xffffffffffffffff, 0x8000000000000000};
  for (uint64_t flag : {CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
                        CLONE_NEWNET}) {
    values.push_back(flag | SIGCHLD);
    values.push_back(flag | 0x100000000);
  }
  values.push_back(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS |
                   CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID);
  return values;
}

// Compares hutch's program with libseccomp's for every interesting call, architecture and argument.
void expect_same_answers(const SeccompPolicy &policy) {
  auto ours = compile_seccomp_bpf(policy, AUDIT_ARCH_X86_64);
  ASSERT_TRUE(ours) << ours.error().message;
  std::vector<sock_filter> reference = libseccomp_program(policy);
  sock_fprog our_program = as_program(*ours), reference_program = as_program(reference);
  std::set<uint32_t> conditional;
  for (const SeccompRule &rule : policy.rules) {
    if (!rule.conditions.empty()) conditional.insert(static_cast<uint32_t>(rule.number));
  }
  std::vector<uint64_t> arguments = interesting_arguments();
  size_t compared = 0;
  for (uint32_t arch : std::initializer_list<uint32_t>{AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64}) {
    for (uint32_t number : interesting_numbers()) {
      seccomp_data data{};
      data.arch = arch;
      data.nr = static_cast<int>(number);
      bool has_conditions = conditional.count(number) != 0 && arch == AUDIT_ARCH_X86_64;
      // Conditional calls: each argument position in turn over the samples, the others at a sample too.
      size_t rounds = has_conditions ? arguments.size() * arguments.size() : 1;
      for (size_t round = 0; round < rounds; ++round) {
        for (unsigned argument = 0; argument < 6; ++argument) {
          data.args[argument] = arguments[(round / (argument % 2 == 0 ? 1 : arguments.size()) + argument) % arguments.size()];
        }
        uint32_t expected = run(reference_program, data), actual = run(our_program, data);
        ASSERT_EQ(actual, expected) << "arch " << std::hex << arch << " call " << std::dec << number << " args "
                                    << std::hex << data.args[0] << " " << data.args[1] << " " << data.args[2];
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 3000u);
}

constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kKill = SECCOMP_RET_KILL_PROCESS;
constexpr uint32_t errno_answer(int value) { return SECCOMP_RET_ERRNO | static_cast<uint32_t>(value); }

#if defined(__x86_64__)

class DefaultProgram : public testing::Test {
 protected:
  void SetUp() override {
    auto policy = default_seccomp_policy();
    ASSERT_TRUE(policy) << policy.error().message;
    auto compiled = SeccompProgram::compile(*policy);
    ASSERT_TRUE(compiled) << compiled.error().message;
    program_.emplace(std::move(*compiled));
  }
  uint32_t answer(const seccomp_data &data, unsigned *executed = nullptr) {
    return run(*program_->program(), data, executed);
  }

  std::optional<SeccompProgram> program_;
};

TEST_F(DefaultProgram, AnswersAsThePolicyFileSays) {
  EXPECT_EQ(answer(call(SYS_read)), kAllow);
  EXPECT_EQ(answer(call(SYS_exit_group)), kAllow);
  EXPECT_EQ(answer(call(SYS_execveat)), kAllow);
  EXPECT_EQ(answer(call(SYS_ptrace)), kKill);
  EXPECT_EQ(answer(call(SYS_bpf)), kKill);
  EXPECT_EQ(answer(call(SYS_fsopen)), kKill);
  EXPECT_EQ(answer(call(SYS_acct)), errno_answer(EPERM)) << "unlisted";
  EXPECT_EQ(answer(call(SYS_quotactl)), errno_answer(EPERM)) << "unlisted";
  EXPECT_EQ(answer(call(SYS_clone3)), errno_answer(ENOSYS));
  EXPECT_EQ(answer(call(SYS_io_uring_setup)), errno_answer(EPERM));
  EXPECT_EQ(answer(call(SYS_io_setup)), errno_answer(ENOSYS));
  EXPECT_EQ(answer(call(SYS_io_submit)), errno_answer(ENOSYS));
  EXPECT_EQ(answer(call(1000)), errno_answer(EPERM)) << "a number beyond every table";
}

TEST_F(DefaultProgram, CloneRunsWithoutNamespaceFlagsOnly) {
  // What glibc's pthread_create passes, and what fork passes.
  uint64_t thread_flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                          CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
  EXPECT_EQ(answer(call(SYS_clone, thread_flags)), kAllow);
  EXPECT_EQ(answer(call(SYS_clone, CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD)), kAllow);
  for (uint64_t flag : {CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
                        CLONE_NEWNET}) {
    EXPECT_EQ(answer(call(SYS_clone, SIGCHLD | flag)), errno_answer(EPERM)) << std::hex << flag;
  }
  EXPECT_EQ(answer(call(SYS_clone, CLONE_VM | CLONE_VFORK | CLONE_NEWUSER | SIGCHLD)), errno_answer(EPERM));
}

TEST_F(DefaultProgram, SocketsOfTheListedFamiliesOnly) {
  for (int family : {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK}) EXPECT_EQ(answer(call(SYS_socket, family)), kAllow) << family;
  for (int family : {AF_PACKET, AF_ALG, AF_VSOCK, AF_BLUETOOTH}) {
    EXPECT_EQ(answer(call(SYS_socket, family)), errno_answer(EPERM)) << family;
  }
  EXPECT_EQ(answer(call(SYS_personality, 0xffffffff)), kAllow);
  EXPECT_EQ(answer(call(SYS_personality, 0x0040000)), errno_answer(EPERM)) << "ADDR_NO_RANDOMIZE";
}

TEST_F(DefaultProgram, OtherAbisKill) {
  // i386 (int 0x80): call 20 is getpid there.
  EXPECT_EQ(answer(call(20, 0, AUDIT_ARCH_I386)), kKill);
  // x32: x86_64's audit arch with bit 30 of the number set; 0x40000000 | 39 is x32's getpid.
  EXPECT_EQ(answer(call(0x40000000 | SYS_getpid)), kKill);
  EXPECT_EQ(answer(call(SYS_getpid)), kAllow);
}

TEST_F(DefaultProgram, IsShortAndShallow) {
  // Every job installs the program, and the kernel's install work grows with its length: runs of call numbers
  // keep it near 210 instructions (libseccomp's tree of the same policy is 424, a list 343). Any call is
  // answered within a dozen or two instructions; the kernel skips the filter for calls it always allows.
  unsigned longest = 0;
  for (long number = 0; number < 1100; ++number) {
    unsigned executed = 0;
    answer(call(number), &executed);
    longest = std::max(longest, executed);
  }
  EXPECT_LE(longest, 30u);
  EXPECT_LT(program_->instruction_count(), 300u);
}

TEST_F(DefaultProgram, AnswersLikeLibseccomp) {
  auto policy = default_seccomp_policy();
  ASSERT_TRUE(policy);
  expect_same_answers(*policy);
}

TEST(SeccompBpf, EveryKindOfConditionAnswersLikeLibseccomp) {
  auto policy = parse_seccomp_policy(
      "allow execve execveat\n"
      "allow read if arg0 != 5\n"
      "allow write if arg1 == 0x100000002\n"
      "allow write if arg1 == 7 and arg0 != 0xffffffff\n"
      "allow openat if arg2 & 0xff00000000ff == 0x1200000034 and arg0 == 7\n"
      "kill ptrace if arg0 == 16\n"
      "kill ptrace if arg3 & CLONE_NEWUSER == CLONE_NEWUSER\n"
      "errno ENOSYS mmap if arg5 != 0\n"
      "allow clone if arg0 & CLONE_NEWNS|CLONE_NEWUSER == 0\n"
      "errno EACCES close\n"
      "kill bpf\n",
      "conditions.seccomp");
  ASSERT_TRUE(policy) << policy.error().message;
  expect_same_answers(*policy);
}

TEST(SeccompBpf, ALongLeftHalfIsSkippedWithAnUnconditionalJump) {
  // Alternating answers make one run per call number, so the search's left halves pass 255 instructions.
  std::string text = "allow execve execveat\n";
  for (int number = 0; number < 440; number += 2) {
    std::string name = syscall_name(number);
    if (name.empty() || name == "execve" || name == "execveat") continue;
    text += (number % 4 == 0 ? "allow " : "kill ") + name + "\n";
  }
  auto policy = parse_seccomp_policy(text, "alternating.seccomp");
  ASSERT_TRUE(policy) << policy.error().message;
  auto ours = compile_seccomp_bpf(*policy, AUDIT_ARCH_X86_64);
  ASSERT_TRUE(ours);
  EXPECT_GT(ours->size(), 600u);
  expect_same_answers(*policy);
}

TEST(SeccompNames, DescribeNamesTheAbi) {
  EXPECT_EQ(describe_syscall(SYS_ptrace, AUDIT_ARCH_X86_64), "ptrace");
  EXPECT_EQ(describe_syscall(20, AUDIT_ARCH_I386), "getpid through the i386 ABI");
  EXPECT_EQ(describe_syscall(0x40000000 | SYS_getpid, AUDIT_ARCH_X86_64), "getpid through the x32 ABI");
}

TEST(SeccompProgram, PerFunctionAllowsReachTheProgram) {
  auto policy = default_seccomp_policy();
  ASSERT_TRUE(policy);
  auto merged = with_allowed(*policy, {"acct", "quotactl"});
  ASSERT_TRUE(merged) << merged.error().message;
  auto program = SeccompProgram::compile(*merged);
  ASSERT_TRUE(program) << program.error().message;
  EXPECT_EQ(run(*program->program(), call(SYS_quotactl)), kAllow);
  EXPECT_EQ(run(*program->program(), call(SYS_acct)), kAllow);
  EXPECT_EQ(run(*program->program(), call(SYS_syslog)), errno_answer(EPERM));
  EXPECT_EQ(run(*program->program(), call(SYS_ptrace)), kKill);
}

#endif

}  // namespace
}  // namespace hutch
