#include "sandbox/rlimits.h"

namespace hutch {
namespace {

ChildRlimit limit(int resource, uint64_t value) {
  return ChildRlimit{resource, {static_cast<rlim_t>(value), static_cast<rlim_t>(value)}};
}

}  // namespace

std::vector<ChildRlimit> sandbox_rlimits(const RlimitOptions &options) {
  std::vector<ChildRlimit> limits = {
      limit(RLIMIT_CORE, 0),  // a core dump would write the function's memory to the host's disk
      limit(RLIMIT_NOFILE, options.open_files),
      limit(RLIMIT_FSIZE, options.file_size_bytes),
  };
  if (options.fallback) {
    limits.push_back(limit(RLIMIT_AS, options.memory_bytes));
    limits.push_back(limit(RLIMIT_NPROC, options.processes));
    limits.push_back(limit(RLIMIT_CPU, options.cpu_seconds));
  }
  return limits;
}

}  // namespace hutch
