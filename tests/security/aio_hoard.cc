// Attack: take the host's whole pool of classic AIO events. fs.aio-max-nr is one count for the machine, so
// a job that holds it makes every io_setup on the host fail with EAGAIN until the job ends. {"seconds": S}
// takes contexts (32768 events at first, fewer as the pool runs dry; at most 4096 contexts), prints
// "holding N events in M contexts", holds them S seconds (default 3, cap 10) and reports
// {"first_error": errno name of the first io_setup that failed, "contexts": M, "events": N}.
#include <linux/aio_abi.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "tests/programs/program_input.h"
#include "tests/security/attempt.h"

int main() {
  constexpr const char *kProgram = "aio_hoard";
  auto input = hutch::programs::input_or_exit(kProgram);
  double seconds = hutch::programs::number_param(kProgram, input, "seconds", 3, 0, 10);

  std::string first_error = "none";
  long long events = 0;
  int contexts = 0;
  for (unsigned size = 32768; size >= 1 && contexts < 4096;) {
    aio_context_t context = 0;
    if (::syscall(SYS_io_setup, size, &context) == 0) {
      events += size;
      ++contexts;
      continue;
    }
    if (first_error == "none") first_error = hutch::attack::errno_name(errno);
    if (errno != EAGAIN) break;  // denied, not merely full
    size /= 2;
  }
  std::printf("holding %lld events in %d contexts\n", events, contexts);
  std::fflush(stdout);
  hutch::attack::hold_for(seconds);
  hutch::programs::write_result_or_exit(kProgram, {{"first_error", first_error}, {"contexts", contexts}, {"events", events}});
  return 0;  // the contexts go with the process
}
