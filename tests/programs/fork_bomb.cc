// fork_bomb: every process forks as fast as it can and every child does the same, within a total budget
// ({"max_forks": N}, default 3000, cap 10000) and a deadline ({"seconds": S}, default and cap 10). Each
// fork hands half of the forking process's remaining budget to the child, so the whole tree makes at most
// N fork attempts with no shared state to trust. Processes that are done hold their pid until the deadline,
// reap their children and exit. The first process then reports on stderr how many forks succeeded and failed (EAGAIN), from
// counters in a shared mapping, and returns {"forks": F, "failed": X, "eagain": E, "forks_before_deadline": D}.
// No process exits before the deadline, so every fork counted in D found all the earlier ones still holding
// their pids: D is what a pids limit bounds. F is not: on a loaded machine a process that was about to fork at
// the deadline may do so after others have left and given their pids back.
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>

#include "tests/programs/program_input.h"

namespace {

struct Counters {
  std::atomic<long> forks;
  std::atomic<long> failed;
  std::atomic<long> eagain;
  std::atomic<long> forks_before_deadline;
};
static_assert(std::atomic<long>::is_always_lock_free, "the counters are shared between processes");

timespec monotonic_now() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return now;
}

bool before(const timespec &deadline) {
  timespec now = monotonic_now();
  return now.tv_sec < deadline.tv_sec || (now.tv_sec == deadline.tv_sec && now.tv_nsec < deadline.tv_nsec);
}

void sleep_until(const timespec &deadline) {
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR) {
  }
}

void pause_briefly() {
  timespec millisecond{.tv_sec = 0, .tv_nsec = 1'000'000};
  ::nanosleep(&millisecond, nullptr);
}

}  // namespace

int main() {
  constexpr const char *kProgram = "fork_bomb";
  auto input = hutch::programs::input_or_exit(kProgram);
  long budget = static_cast<long>(hutch::programs::integer_param(kProgram, input, "max_forks", 3000, 0, 10000));
  double seconds = hutch::programs::number_param(kProgram, input, "seconds", 10, 0, 10);

  void *shared = ::mmap(nullptr, sizeof(Counters), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) {
    std::perror("fork_bomb: mmap");
    return 1;
  }
  auto *counters = new (shared) Counters{};

  timespec deadline = monotonic_now();
  deadline.tv_sec += static_cast<time_t>(seconds);
  deadline.tv_nsec += static_cast<long>((seconds - static_cast<double>(static_cast<time_t>(seconds))) * 1e9);
  if (deadline.tv_nsec >= 1'000'000'000L) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= 1'000'000'000L;
  }

  std::printf("forking up to %ld times for %s s\n", budget, hutch::fn::format_number(seconds).c_str());
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t first = ::getpid();
  while (budget > 0 && before(deadline)) {
    long child_budget = (budget - 1) / 2;
    budget -= 1 + child_budget;  // a failed attempt spends its share too, so failures cannot loop forever
    pid_t pid = ::fork();
    if (pid == 0) {
      budget = child_budget;
      continue;
    }
    if (pid > 0) {
      counters->forks++;
      if (before(deadline)) counters->forks_before_deadline++;  // so the fork itself was before it too
      continue;
    }
    counters->failed++;
    if (errno == EAGAIN) counters->eagain++;
    pause_briefly();
  }
  sleep_until(deadline);
  // Everyone reaps its own children, which leave at the same deadline: the tree folds up from the leaves,
  // nothing is left to init, and the first process reports after all the others are gone.
  while (::wait(nullptr) > 0 || errno == EINTR) {
  }
  if (::getpid() != first) ::_exit(0);  // children: no stdio flush, no atexit, nothing to report

  long forks = counters->forks, failed = counters->failed, eagain = counters->eagain;
  long in_time = counters->forks_before_deadline;
  std::fprintf(stderr, "fork_bomb: %ld forks (%ld before the deadline), %ld failed (%ld EAGAIN)\n", forks, in_time,
               failed, eagain);
  hutch::programs::write_result_or_exit(
      kProgram, {{"forks", forks}, {"failed", failed}, {"eagain", eagain}, {"forks_before_deadline", in_time}});
  return 0;
}
