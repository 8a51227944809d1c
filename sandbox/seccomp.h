// A seccomp policy (seccomp_policy.h) compiled once, in the parent, into a BPF program the child installs
// with one syscall (seccomp_bpf.h builds it). Nothing here runs after fork: the child gets a pointer.
// Unlisted calls fail with EPERM; a call through another architecture's ABI kills. libseccomp names the
// calls, here and in the audit records of killed jobs.
#pragma once

#include <linux/filter.h>

#include <cstdint>

#include <string>
#include <vector>

#include "common/error.h"
#include "sandbox/seccomp_policy.h"

namespace hutch {

class SeccompProgram {
 public:
  static Result<SeccompProgram> compile(const SeccompPolicy &policy);

  SeccompProgram(SeccompProgram &&other) noexcept;
  SeccompProgram &operator=(SeccompProgram &&other) noexcept;
  SeccompProgram(const SeccompProgram &) = delete;
  SeccompProgram &operator=(const SeccompProgram &) = delete;
  ~SeccompProgram() = default;

  // Valid as long as this object lives; handed to the child as a raw pointer.
  const sock_fprog *program() const { return &program_; }
  size_t instruction_count() const { return filter_.size(); }

 private:
  SeccompProgram() = default;
  void point_program_at_filter();

  std::vector<sock_filter> filter_;
  sock_fprog program_{};
};

// "ptrace" for 101 on x86_64; empty when unknown. `audit_arch` is the AUDIT_ARCH_* value of the ABI the
// call came through (as the kernel's audit record gives it); 0 means this machine's own.
std::string syscall_name(int number, uint32_t audit_arch = 0);
// "ptrace", or for a call through another ABI "getpid through the i386 ABI".
std::string describe_syscall(int number, uint32_t audit_arch);

}  // namespace hutch
