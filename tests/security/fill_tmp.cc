// Attack: fill the disk through /tmp and the working directory. Each must be the job's own size-limited
// tmpfs (--tmp-size, 64 MiB by default), so writing stops with ENOSPC there and the host's disk never sees
// a byte. {"mb": N} writes up to N MiB into each (default 512, cap 1024) in 1 MiB blocks, into a file named
// hutch-attack-fill-<execution id> that it leaves behind on purpose: a job's /tmp dies with it, a host /tmp
// would keep it and the test looks there. Returns {"/tmp": {"written_mb", "error"}, "/work": {...}}.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "tests/programs/program_input.h"
#include "tests/security/attempt.h"

namespace {

nlohmann::json fill(const std::string &directory, const std::string &name, long long megabytes) {
  std::vector<char> block(1 << 20, 'x');
  std::string path = directory + "/" + name;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return {{"written_mb", 0}, {"error", hutch::attack::errno_name(errno)}};
  long long written_mb = 0;
  std::string error = "none";
  for (; written_mb < megabytes; ++written_mb) {
    ssize_t written = ::write(fd, block.data(), block.size());
    if (written != static_cast<ssize_t>(block.size())) {
      // A short write means the next one fails with the reason.
      if (written >= 0 && ::write(fd, block.data(), block.size()) >= 0) errno = EIO;
      error = hutch::attack::errno_name(errno);
      break;
    }
  }
  ::close(fd);
  std::printf("wrote %lld MiB into %s: %s\n", written_mb, path.c_str(), error.c_str());
  std::fflush(stdout);
  return {{"written_mb", written_mb}, {"error", error}};
}

}  // namespace

int main() {
  constexpr const char *kProgram = "fill_tmp";
  auto input = hutch::programs::input_or_exit(kProgram);
  long long megabytes = hutch::programs::integer_param(kProgram, input, "mb", 512, 1, 1024);
  const char *execution_id = std::getenv("HUTCH_EXECUTION_ID");
  std::string name = std::string("hutch-attack-fill-") + (execution_id != nullptr ? execution_id : "unknown");

  nlohmann::json report;
  for (const char *directory : {"/tmp", "/work"}) report[directory] = fill(directory, name, megabytes);
  hutch::programs::write_result_or_exit(kProgram, report);
  return 0;
}
