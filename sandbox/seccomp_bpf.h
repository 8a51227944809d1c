// A seccomp policy as a classic BPF program: a binary search over runs of call numbers.
//
// Why not libseccomp's own generator: every job installs the program afresh, and the kernel's work at
// install (checking and converting the program, compiling it to machine code, and trying every call number
// through it to fill its cache of always-allowed calls) grows with the program's length. For the default
// allowlist libseccomp's binary tree (SCMP_FLTATR_CTL_OPTIMIZE=2) is 424 instructions and took ~185 us to
// install on this VM kind, against ~85 us for the old 30-instruction deny list. Call numbers with the same
// answer come in long runs (the ~300 rules make 84 runs), so a search over runs is 214 instructions and
// installs in ~120 us (docs/benchmarks.md). libseccomp still resolves names; tests/unit/
// seccomp_program_test.cc checks that both programs answer alike for every call number, architecture and
// argument pattern that matters.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <vector>

#include "common/error.h"
#include "sandbox/seccomp_policy.h"

namespace hutch {

// The program for this machine's architecture (AUDIT_ARCH_* `native_arch`, little-endian): another
// architecture kills, as does an x32 call on x86_64; unlisted calls fail with EPERM.
Result<std::vector<sock_filter>> compile_seccomp_bpf(const SeccompPolicy &policy, uint32_t native_arch);

}  // namespace hutch
