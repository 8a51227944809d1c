#include "sandbox/seccomp.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <memory>

#include "common/unique_fd.h"

namespace hutch {
namespace {

struct FilterContextDeleter {
  void operator()(scmp_filter_ctx context) const { seccomp_release(context); }
};
using FilterContext = std::unique_ptr<void, FilterContextDeleter>;

uint32_t libseccomp_action(SeccompAction action) {
  switch (action) {
    case SeccompAction::kAllow: return SCMP_ACT_ALLOW;
    case SeccompAction::kErrno: return SCMP_ACT_ERRNO(EPERM);
    case SeccompAction::kKill: return SCMP_ACT_KILL_PROCESS;
  }
  return SCMP_ACT_KILL_PROCESS;
}

Result<std::vector<sock_filter>> export_bpf(scmp_filter_ctx context) {
  UniqueFd memfd(::memfd_create("hutch-seccomp", MFD_CLOEXEC));
  if (!memfd) return fail(errno_error("memfd_create"));
  if (int rc = seccomp_export_bpf(context, memfd.get()); rc != 0)
    return fail(errno_error(-rc, "seccomp_export_bpf"));
  off_t size = ::lseek(memfd.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0)
    return fail(make_error("seccomp_export_bpf wrote " + std::to_string(size) + " bytes, not a BPF program"));
  std::vector<sock_filter> filter(static_cast<size_t>(size) / sizeof(sock_filter));
  if (::pread(memfd.get(), filter.data(), static_cast<size_t>(size), 0) != size)
    return fail(errno_error("read back the seccomp program"));
  return filter;
}

}  // namespace

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
  FilterContext context(seccomp_init(libseccomp_action(policy.default_action)));
  if (!context) return fail(make_error("seccomp_init failed: out of memory"));
  // The child sets no_new_privs itself, right before the filter, as one of its ordered steps.
  if (int rc = seccomp_attr_set(context.get(), SCMP_FLTATR_CTL_NNP, 0); rc != 0)
    return fail(errno_error(-rc, "seccomp_attr_set(CTL_NNP)"));
  // A call made through another architecture's ABI (int 0x80 on x86_64) kills: it would bypass the rules.
  if (int rc = seccomp_attr_set(context.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); rc != 0)
    return fail(errno_error(-rc, "seccomp_attr_set(ACT_BADARCH)"));
  for (const SeccompRule &rule : policy.rules) {
    int number = seccomp_syscall_resolve_name(rule.syscall.c_str());
    if (number == __NR_SCMP_ERROR) continue;  // not a call of this architecture: nothing to forbid
    if (int rc = seccomp_rule_add(context.get(), libseccomp_action(rule.action), number, 0); rc != 0)
      return fail(errno_error(-rc, "seccomp_rule_add(" + rule.syscall + ")"));
  }
  SeccompProgram program;
  TRY_ASSIGN(program.filter_, export_bpf(context.get()));
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
  if (audit_arch == 0 || audit_arch == seccomp_arch_native()) return syscall_name(number);
  std::string name = syscall_name(number, audit_arch);
  std::string abi = audit_arch == SCMP_ARCH_X86 ? "i386" : audit_arch == SCMP_ARCH_X32 ? "x32" : "a foreign";
  return (name.empty() ? "call " + std::to_string(number) : name) + " through the " + abi + " ABI";
}

}  // namespace hutch
