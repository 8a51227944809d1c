// Per-process resource limits set in the child before exec.
#pragma once

#include <cstdint>
#include <vector>

#include "sandbox/child_plan.h"

namespace hutch {

struct RlimitOptions {
  uint64_t open_files = 1024;
  uint64_t file_size_bytes = 1ULL << 30;
  // Only where no cgroup enforces limits: a coarse stand-in (address space is not resident memory, and
  // RLIMIT_NPROC counts per uid, not per job).
  bool fallback = false;
  uint64_t memory_bytes = 0;
  uint64_t processes = 0;
  uint64_t cpu_seconds = 0;
};

std::vector<ChildRlimit> sandbox_rlimits(const RlimitOptions &options);

}  // namespace hutch
