// balloon: {"mb": N} allocates and touches N MiB in 8 MiB steps (default 200, cap 1024), printing each
// step, then returns {"allocated_mb": N}. Under a smaller memory limit the last progress line shows how far
// it got before the kernel stopped it.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "tests/programs/program_input.h"

int main() {
  constexpr const char *kProgram = "balloon";
  constexpr long long kStepMb = 8;
  auto input = hutch::programs::input_or_exit(kProgram);
  long long target_mb = hutch::programs::integer_param(kProgram, input, "mb", 200, 0, 1024);
  const size_t page_bytes = static_cast<size_t>(::sysconf(_SC_PAGESIZE));

  std::vector<char *> blocks;  // kept, never freed: the point is to hold the memory
  long long allocated_mb = 0;
  while (allocated_mb < target_mb) {
    long long step_mb = std::min(kStepMb, target_mb - allocated_mb);
    size_t step_bytes = static_cast<size_t>(step_mb) << 20;
    auto *block = static_cast<char *>(std::malloc(step_bytes));
    if (block == nullptr) {
      std::fprintf(stderr, "balloon: malloc(%lld MiB) failed after %lld MiB\n", step_mb, allocated_mb);
      return 1;
    }
    // Volatile stores so the compiler cannot drop them: untouched pages would cost no memory.
    volatile char *pages = block;
    for (size_t offset = 0; offset < step_bytes; offset += page_bytes) pages[offset] = 1;
    blocks.push_back(block);
    allocated_mb += step_mb;
    std::printf("allocated %lld MiB\n", allocated_mb);
    std::fflush(stdout);
  }
  hutch::programs::write_result_or_exit(kProgram, {{"allocated_mb", allocated_mb}});
  return 0;
}
