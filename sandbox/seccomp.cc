#include "sandbox/seccomp.h"

#include <seccomp.h>

#include "sandbox/seccomp_bpf.h"

namespace hutch {

SeccompProgram::SeccompProgram(SeccompProgram &&other) noexcept : filter_(std::move(other.filter_)) {
  point_program_at_filter();
}

SeccompProgram &SeccompProgram::operator=(SeccompProgram &&other) noexcept {
  filter_ = std::move(other.filter_);
  point_program_at_filter();
  return *this;
}

void SeccompProgram::point_program_at_filter() {
  program_.len = static_cast<unsigned short>(filter_.size());
  program_.filter = filter_.data();
}

Result<SeccompProgram> SeccompProgram::compile(const SeccompPolicy &policy) {
  SeccompProgram program;
  TRY_ASSIGN(program.filter_, compile_seccomp_bpf(policy, seccomp_arch_native()));
  program.point_program_at_filter();
  return program;
}

std::string syscall_name(int number, uint32_t audit_arch) {
  // libseccomp's architecture tokens are the AUDIT_ARCH_* values.
  char *name = seccomp_syscall_resolve_num_arch(audit_arch == 0 ? SCMP_ARCH_NATIVE : audit_arch, number);
  if (name == nullptr) return {};
  std::string result(name);
  free(name);
  return result;
}

}  // namespace hutch

namespace hutch {

std::string describe_syscall(int number, uint32_t audit_arch) {
  // x32 shares x86_64's audit arch and sets bit 30 of the number (__X32_SYSCALL_BIT).
  constexpr int kX32Bit = 0x40000000;
  if ((audit_arch == 0 || audit_arch == SCMP_ARCH_X86_64) && seccomp_arch_native() == SCMP_ARCH_X86_64 &&
      (number & kX32Bit) != 0)
    audit_arch = SCMP_ARCH_X32;
  if (audit_arch == 0 || audit_arch == seccomp_arch_native()) return syscall_name(number);
  std::string name = syscall_name(number, audit_arch);
  std::string abi = audit_arch == SCMP_ARCH_X86 ? "i386" : audit_arch == SCMP_ARCH_X32 ? "x32" : "a foreign";
  return (name.empty() ? "call " + std::to_string(number) : name) + " through the " + abi + " ABI";
}

}  // namespace hutch
