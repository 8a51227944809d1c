// Attack: outlive the job as a classic daemon. Fork, setsid in the child, fork again so the daemon is no
// session leader and its parent is gone, close stdin, stdout, stderr and fd 3 (so nobody waits on a pipe for
// it), ignore SIGHUP and SIGTERM, and sleep {"seconds": S} (default 30, cap 60). The first process reports
// the daemon's pid (as the job sees it) and exits 0 at once: the job must end with it, and the daemon must
// die with the job. Prints "daemon <pid>"; returns {"daemon": pid}.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>

#include "tests/programs/program_input.h"

namespace {

[[noreturn]] void live_on(int report_fd, double seconds) {
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGTERM, SIG_IGN);
  pid_t me = ::getpid();
  ssize_t written = ::write(report_fd, &me, sizeof me);
  ::close(report_fd);
  if (written != sizeof me) ::_exit(1);
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd <= 3; ++fd) ::close(fd);
  if (null >= 0) {
    for (int fd = 0; fd <= 2; ++fd) ::dup2(null, fd);
  }
  if (::chdir("/") != 0) ::_exit(1);
  double whole = std::floor(seconds);
  timespec remaining{.tv_sec = static_cast<time_t>(whole), .tv_nsec = static_cast<long>((seconds - whole) * 1e9)};
  while (::nanosleep(&remaining, &remaining) != 0 && errno == EINTR) {
  }
  ::_exit(0);
}

}  // namespace

int main() {
  constexpr const char *kProgram = "daemonize";
  auto input = hutch::programs::input_or_exit(kProgram);
  double seconds = hutch::programs::number_param(kProgram, input, "seconds", 30, 0, 60);

  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    std::perror("daemonize: pipe");
    return 1;
  }
  std::fflush(stdout);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(report[0]);
    if (::setsid() < 0) ::_exit(1);
    pid_t daemon = ::fork();
    if (daemon == 0) live_on(report[1], seconds);
    ::_exit(daemon > 0 ? 0 : 1);  // the daemon's parent leaves at once: init adopts it
  }
  ::close(report[1]);
  if (child < 0) {
    std::perror("daemonize: fork");
    return 1;
  }
  ::waitpid(child, nullptr, 0);
  pid_t daemon = 0;
  if (::read(report[0], &daemon, sizeof daemon) != sizeof daemon) {
    std::fprintf(stderr, "daemonize: the daemon never reported its pid\n");
    return 1;
  }
  std::printf("daemon %d\n", static_cast<int>(daemon));
  std::fflush(stdout);
  hutch::programs::write_result_or_exit(kProgram, {{"daemon", daemon}});
  return 0;
}
