// sleep: {"seconds": 2.5} -> prints a line, sleeps that long, returns {"slept": 2.5}. The test suite's
// stand-in for a slow job (timeouts, graceful shutdown, concurrency).
#include <time.h>

#include <cerrno>
#include <cmath>
#include <cstdio>

#include "functions/builtins.h"
#include "functions/function_io.h"

namespace hutch::fn {
namespace {

constexpr double kDefaultSeconds = 10;
constexpr double kMaxSeconds = 300;

// Sleeps the whole duration: a signal that interrupts nanosleep resumes it with the time left.
void sleep_for(double seconds) {
  double whole = std::floor(seconds);
  timespec remaining{.tv_sec = static_cast<time_t>(whole),
                     .tv_nsec = static_cast<long>(std::round((seconds - whole) * 1e9))};
  if (remaining.tv_nsec >= 1'000'000'000L) {
    remaining.tv_sec += 1;
    remaining.tv_nsec -= 1'000'000'000L;
  }
  while (::nanosleep(&remaining, &remaining) != 0 && errno == EINTR) {
  }
}

}  // namespace

int run_sleep(const nlohmann::json &input) {
  auto seconds = number_field(input, "seconds", kDefaultSeconds, 0, kMaxSeconds);
  if (!seconds) {
    std::fprintf(stderr, "sleep: %s\n", seconds.error().message.c_str());
    return kExitBadInput;
  }
  // Echo the number as it was given (3 stays 3, 2.5 stays 2.5).
  nlohmann::json slept = static_cast<int>(kDefaultSeconds);
  if (auto given = find_field(input, "seconds"); given && *given != nullptr && !(*given)->is_null()) {
    slept = **given;
  }
  std::printf("sleeping %s s\n", format_number(*seconds).c_str());
  std::fflush(stdout);
  sleep_for(*seconds);
  if (auto written = write_result(nlohmann::json::object({{"slept", slept}})); !written) {
    std::fprintf(stderr, "sleep: %s\n", written.error().message.c_str());
    return 1;
  }
  return 0;
}

}  // namespace hutch::fn
