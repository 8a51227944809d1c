// log_flood, three modes for the log pipeline:
//   {"bytes": N, "line_length": L}   N bytes of L-character lines on stdout as fast as possible (defaults
//                                    20 MiB and 100; caps 256 MiB and 16 MiB), then "done" on stderr;
//   {"partial": true}                "no newline at end" with no trailing newline;
//   {"lines": N, "interval_ms": M}   "line 1" .. "line N", one every M ms (caps 100000 lines, 60000 ms,
//                                    and 300 s in all).
// {"stderr": true} sends the flood or the lines to stderr instead.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "common/file_io.h"
#include "tests/programs/program_input.h"

namespace {

constexpr const char *kProgram = "log_flood";

void write_or_exit(int fd, const char *data, size_t size) {
  if (auto written = hutch::write_all(fd, data, size); !written) {
    std::fprintf(stderr, "log_flood: %s\n", written.error().message.c_str());
    std::exit(1);
  }
}

void sleep_ms(long long milliseconds) {
  timespec remaining{.tv_sec = static_cast<time_t>(milliseconds / 1000),
                     .tv_nsec = static_cast<long>(milliseconds % 1000) * 1'000'000L};
  while (::nanosleep(&remaining, &remaining) != 0 && errno == EINTR) {
  }
}

// Exactly `total_bytes` bytes: whole lines of `line_length` characters plus a newline, and a shorter last
// line when the total does not divide evenly, so every line ends with a newline.
nlohmann::json flood(int fd, long long total_bytes, long long line_length) {
  const size_t line_bytes = static_cast<size_t>(line_length) + 1;
  // Many lines per write() when lines are short; one line per buffer when they are long.
  const size_t lines_per_buffer = std::max<size_t>(1, (256 << 10) / line_bytes);
  std::string buffer;
  buffer.reserve(lines_per_buffer * line_bytes);
  for (size_t i = 0; i < lines_per_buffer; ++i) {
    buffer.append(static_cast<size_t>(line_length), 'x');
    buffer += '\n';
  }
  long long remaining = total_bytes;
  long long lines = 0;
  while (remaining >= static_cast<long long>(line_bytes)) {
    size_t whole_lines = std::min<size_t>(lines_per_buffer, static_cast<size_t>(remaining) / line_bytes);
    write_or_exit(fd, buffer.data(), whole_lines * line_bytes);
    remaining -= static_cast<long long>(whole_lines * line_bytes);
    lines += static_cast<long long>(whole_lines);
  }
  if (remaining > 0) {
    std::string last(static_cast<size_t>(remaining - 1), 'x');
    last += '\n';
    write_or_exit(fd, last.data(), last.size());
    ++lines;
  }
  return {{"bytes", total_bytes}, {"lines", lines}};
}

nlohmann::json numbered_lines(int fd, long long count, long long interval_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  long long written = 0;
  for (long long i = 1; i <= count; ++i) {
    if (std::chrono::steady_clock::now() >= deadline) {
      std::fprintf(stderr, "log_flood: stopping after 300 s\n");
      break;
    }
    std::string line = "line " + std::to_string(i) + "\n";
    write_or_exit(fd, line.data(), line.size());
    ++written;
    if (i < count && interval_ms > 0) sleep_ms(interval_ms);
  }
  return {{"lines", written}};
}

}  // namespace

int main() {
  using namespace hutch::programs;
  auto input = input_or_exit(kProgram);
  int fd = bool_param(kProgram, input, "stderr", false) ? STDERR_FILENO : STDOUT_FILENO;

  if (bool_param(kProgram, input, "partial", false)) {
    const std::string text = "no newline at end";
    write_or_exit(fd, text.data(), text.size());
    write_result_or_exit(kProgram, {{"partial", true}});
    return 0;
  }
  if (field_or_null(input, "lines") != nullptr) {
    long long count = integer_param(kProgram, input, "lines", 10, 0, 100000);
    long long interval_ms = integer_param(kProgram, input, "interval_ms", 100, 0, 60000);
    write_result_or_exit(kProgram, numbered_lines(fd, count, interval_ms));
    return 0;
  }
  long long total_bytes = integer_param(kProgram, input, "bytes", 20LL << 20, 0, 256LL << 20);
  long long line_length = integer_param(kProgram, input, "line_length", 100, 0, 16LL << 20);
  nlohmann::json result = flood(fd, total_bytes, line_length);
  std::fprintf(stderr, "done\n");
  write_result_or_exit(kProgram, result);
  return 0;
}
