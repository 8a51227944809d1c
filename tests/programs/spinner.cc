// spinner: {"threads": T, "seconds": S} keeps T threads busy for S seconds of wall time (defaults 4 and 2,
// caps 16 and 30), for CPU quota and cpu_time tests. Returns {"threads": T, "seconds": S, "iterations": N}.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "tests/programs/program_input.h"

int main() {
  constexpr const char *kProgram = "spinner";
  auto input = hutch::programs::input_or_exit(kProgram);
  long long thread_count = hutch::programs::integer_param(kProgram, input, "threads", 4, 1, 16);
  double seconds = hutch::programs::number_param(kProgram, input, "seconds", 2, 0, 30);

  std::printf("spinning %lld threads for %s s\n", thread_count, hutch::fn::format_number(seconds).c_str());
  std::fflush(stdout);
  // Wall time, not CPU time: a throttled spinner still stops on time.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::atomic<unsigned long long> iterations{0};
  std::vector<std::thread> threads;
  for (long long i = 0; i < thread_count; ++i) {
    threads.emplace_back([&] {
      unsigned long long mine = 0;
      while (std::chrono::steady_clock::now() < deadline) {
        // An empty asm keeps the compiler from deleting the loop.
        for (int spin = 0; spin < 1000; ++spin) __asm__ volatile("");
        ++mine;
      }
      iterations += mine;
    });
  }
  for (auto &thread : threads) thread.join();
  hutch::programs::write_result_or_exit(
      kProgram, {{"threads", thread_count}, {"seconds", seconds}, {"iterations", iterations.load()}});
  return 0;
}
