// Attack: kill(-1, SIGKILL), "every process I may signal". Inside the sandbox that must be only the job's
// own processes: not hutchd, not its spawners, not other jobs (other uids, other PID namespaces).
// Prints what kill returned, then sleeps a little so a surviving caller shows up as a normal exit.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

int main() {
  int result = ::kill(-1, SIGKILL);
  std::printf("kill(-1, SIGKILL) returned %d (%s)\n", result, result == 0 ? "ok" : ::strerrorname_np(errno));
  std::fflush(stdout);
  ::usleep(100 * 1000);
  return 0;
}
