// Attack: a lock on a file every job and the host share. flock works on a file opened read-only, so a job
// could take an exclusive lock on a file under the read-only /usr and block a host process (or another
// job) that locks the same file, or use the lock as a channel. {"path": P, "seconds": S} opens P
// read-only, tries flock(LOCK_EX | LOCK_NB), prints "flock <P>: <ok or errno name>", holds the lock S
// seconds (default 3, cap 10) and reports {"flock": "ok" or the errno name}.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <string>

#include "tests/programs/program_input.h"
#include "tests/security/attempt.h"

int main() {
  constexpr const char *kProgram = "lock_shared_file";
  auto input = hutch::programs::input_or_exit(kProgram);
  std::string path = hutch::programs::string_param(kProgram, input, "path", "");
  double seconds = hutch::programs::number_param(kProgram, input, "seconds", 3, 0, 10);
  if (path.empty()) hutch::programs::exit_bad_input(kProgram, "path: name the file to lock");

  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  std::string result = fd < 0 ? hutch::attack::errno_name(errno) : hutch::attack::outcome(::flock(fd, LOCK_EX | LOCK_NB));
  std::printf("flock %s: %s\n", path.c_str(), result.c_str());
  std::fflush(stdout);
  hutch::attack::hold_for(seconds);
  hutch::programs::write_result_or_exit(kProgram, {{"flock", result}});
  return 0;
}
