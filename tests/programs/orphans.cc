// orphans: {"children": N, "seconds": S} forks N children (default 3, cap 50) that each leave the process
// group with setsid() and sleep S seconds (default 30, cap 120), then exits at once. The children keep
// stdout, stderr and fd 3 open: a supervisor that waits for EOF, or kills only the process group, is left
// with them. Prints "child <pid>" per child; returns {"children": [pids]}.
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <vector>

#include "tests/programs/program_input.h"

namespace {

[[noreturn]] void child_main(double seconds) {
  ::setsid();
  double whole = std::floor(seconds);
  timespec remaining{.tv_sec = static_cast<time_t>(whole), .tv_nsec = static_cast<long>((seconds - whole) * 1e9)};
  while (::nanosleep(&remaining, &remaining) != 0 && errno == EINTR) {
  }
  ::_exit(0);  // not exit(): the parent's stdio buffers and atexit handlers are not ours
}

}  // namespace

int main() {
  constexpr const char *kProgram = "orphans";
  auto input = hutch::programs::input_or_exit(kProgram);
  long long child_count = hutch::programs::integer_param(kProgram, input, "children", 3, 0, 50);
  double seconds = hutch::programs::number_param(kProgram, input, "seconds", 30, 0, 120);

  std::vector<pid_t> children;
  for (long long i = 0; i < child_count; ++i) {
    std::fflush(stdout);
    pid_t pid = ::fork();
    if (pid == 0) child_main(seconds);
    if (pid < 0) {
      std::perror("orphans: fork");
      break;
    }
    children.push_back(pid);
    std::printf("child %d\n", static_cast<int>(pid));
    std::fflush(stdout);
  }
  hutch::programs::write_result_or_exit(kProgram, {{"children", children}});
  return static_cast<long long>(children.size()) == child_count ? 0 : 1;
}
