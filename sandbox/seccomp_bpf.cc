// The program's shape:
//
//   load arch; not the native one -> kill
//   load nr; (x86_64) nr >= 0x40000000 and nr != -1 -> kill     x32 numbers; -1 is "no call" (as libseccomp)
//   binary search: nr >= start of the middle run ? right half : left half
//   leaf: return the run's answer, or for a call with conditions: each 'if' line in turn, all its
//         comparisons on the 64-bit argument (high and low words), first match returns its answer;
//         none -> EPERM
//
// Classic BPF jumps only forward, conditional jumps by at most 255: a left half longer than that is
// skipped with an unconditional jump (32-bit offset) instead.
#include "sandbox/seccomp_bpf.h"

#include <linux/audit.h>
#include <linux/seccomp.h>

#include <cstddef>
#include <map>

namespace hutch {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "argument words are read as low word first");

constexpr uint32_t kArchOffset = offsetof(seccomp_data, arch);
constexpr uint32_t kNumberOffset = offsetof(seccomp_data, nr);
constexpr uint32_t kX32Bit = 0x40000000;
constexpr uint32_t kUnlisted = SECCOMP_RET_ERRNO | EPERM;

using Code = std::vector<sock_filter>;

uint32_t argument_offset(unsigned argument, bool high) {
  return static_cast<uint32_t>(offsetof(seccomp_data, args) + 8 * argument + (high ? 4 : 0));
}

uint32_t answer_of(const SeccompRule &rule) {
  switch (rule.verb) {
    case SeccompVerb::kAllow: return SECCOMP_RET_ALLOW;
    case SeccompVerb::kErrno: return SECCOMP_RET_ERRNO | (static_cast<uint32_t>(rule.errno_value) & SECCOMP_RET_DATA);
    case SeccompVerb::kKill: return SECCOMP_RET_KILL_PROCESS;
  }
  return SECCOMP_RET_KILL_PROCESS;
}

// A block whose failing jumps all land just past its end, where the next alternative starts.
struct Block {
  struct Failure {
    size_t at;           // a conditional jump
    bool when_true;      // which of its branches fails
  };
  Code code;
  std::vector<Failure> failures;

  void load(uint32_t offset) { code.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset)); }
  void jump_equal(uint32_t value, bool fail_when_equal) {
    failures.push_back({code.size(), fail_when_equal});
    code.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 0, 0));
  }
  // Points every failing branch past the end (the code must be complete).
  Status patch() {
    for (const Failure &failure : failures) {
      size_t distance = code.size() - failure.at - 1;
      if (distance > 255) return fail(make_error("seccomp: a rule's conditions are too long for one jump"));
      (failure.when_true ? code[failure.at].jt : code[failure.at].jf) = static_cast<uint8_t>(distance);
    }
    return {};
  }
};

// One 'if' line: every comparison must hold, then its answer; any failure falls through to what follows.
Result<Code> alternative(const SeccompRule &rule) {
  Block block;
  for (const SeccompCondition &condition : rule.conditions) {
    auto low = static_cast<uint32_t>(condition.value), high = static_cast<uint32_t>(condition.value >> 32);
    switch (condition.compare) {
      case SeccompCondition::Compare::kEqual:
      case SeccompCondition::Compare::kMaskedEqual: {
        bool masked = condition.compare == SeccompCondition::Compare::kMaskedEqual;
        auto mask_low = static_cast<uint32_t>(condition.mask), mask_high = static_cast<uint32_t>(condition.mask >> 32);
        for (bool word_high : {true, false}) {
          block.load(argument_offset(condition.argument, word_high));
          if (masked) block.code.push_back(BPF_STMT(BPF_ALU | BPF_AND | BPF_K, word_high ? mask_high : mask_low));
          block.jump_equal(word_high ? high : low, /*fail_when_equal=*/false);
        }
        break;
      }
      case SeccompCondition::Compare::kNotEqual:
        // Holds when either word differs: a different high word skips the low word's test.
        block.load(argument_offset(condition.argument, true));
        block.code.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, high, 0, 2));
        block.load(argument_offset(condition.argument, false));
        block.jump_equal(low, /*fail_when_equal=*/true);
        break;
    }
  }
  block.code.push_back(BPF_STMT(BPF_RET | BPF_K, answer_of(rule)));
  TRY_STATUS(block.patch());
  return block.code;
}

// What one run of call numbers gets: a single answer, or (one call) its conditional rules.
struct Run {
  uint32_t first = 0;
  uint32_t answer = kUnlisted;
  const std::vector<const SeccompRule *> *conditional = nullptr;
};

Result<Code> leaf(const Run &run) {
  if (run.conditional == nullptr) return Code{BPF_STMT(BPF_RET | BPF_K, run.answer)};
  Code code;
  for (const SeccompRule *rule : *run.conditional) {
    TRY_ASSIGN(Code block, alternative(*rule));
    code.insert(code.end(), block.begin(), block.end());
  }
  code.push_back(BPF_STMT(BPF_RET | BPF_K, kUnlisted));
  return code;
}

Result<Code> search(const std::vector<Run> &runs, size_t begin, size_t end) {
  if (end - begin == 1) return leaf(runs[begin]);
  size_t middle = begin + (end - begin) / 2;
  TRY_ASSIGN(Code left, search(runs, begin, middle));
  TRY_ASSIGN(Code right, search(runs, middle, end));
  Code code;
  if (left.size() <= 255) {
    code.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, runs[middle].first, static_cast<uint8_t>(left.size()), 0));
  } else {
    code.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, runs[middle].first, 0, 1));
    code.push_back(BPF_STMT(BPF_JMP | BPF_JA, static_cast<uint32_t>(left.size())));
  }
  code.insert(code.end(), left.begin(), left.end());
  code.insert(code.end(), right.begin(), right.end());
  return code;
}

}  // namespace

Result<std::vector<sock_filter>> compile_seccomp_bpf(const SeccompPolicy &policy, uint32_t native_arch) {
  // Per call number: its unconditional answer, or its conditional rules (in file order).
  std::map<uint32_t, uint32_t> answers;
  std::map<uint32_t, std::vector<const SeccompRule *>> conditional;
  for (const SeccompRule &rule : policy.rules) {
    if (rule.number < 0) return fail(make_error(policy.source + ": '" + rule.syscall + "' has no number here"));
    auto number = static_cast<uint32_t>(rule.number);
    if (rule.conditions.empty()) answers[number] = answer_of(rule);
    else conditional[number].push_back(&rule);
  }
  std::vector<Run> runs;
  auto add_run = [&runs](Run run) {
    if (!runs.empty() && run.conditional == nullptr && runs.back().conditional == nullptr &&
        runs.back().answer == run.answer)
      return;
    runs.push_back(run);
  };
  add_run(Run{0, kUnlisted, nullptr});
  uint32_t last = 0;
  for (const auto &[number, answer] : answers) last = std::max(last, number);
  for (const auto &[number, rules] : conditional) last = std::max(last, number);
  for (uint32_t number = 0; number <= last + 1; ++number) {
    Run run{number, kUnlisted, nullptr};
    if (auto found = conditional.find(number); found != conditional.end()) run.conditional = &found->second;
    else if (auto known = answers.find(number); known != answers.end()) run.answer = known->second;
    add_run(run);
  }

  Code program{
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArchOffset),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, native_arch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kNumberOffset),
  };
  if (native_arch == AUDIT_ARCH_X86_64) {
    program.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, kX32Bit, 0, 3));
    program.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffff, 1, 0));
    program.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
    program.push_back(BPF_STMT(BPF_RET | BPF_K, kUnlisted));
  }
  TRY_ASSIGN(Code body, search(runs, 0, runs.size()));
  program.insert(program.end(), body.begin(), body.end());
  if (program.size() > BPF_MAXINSNS)
    return fail(make_error(policy.source + ": the compiled program has " + std::to_string(program.size()) +
                           " instructions, more than the kernel's " + std::to_string(BPF_MAXINSNS)));
  return program;
}

}  // namespace hutch
