// terminal_attack: output meant for the operator's terminal rather than for the job's caller.
//   {"lines": true}      prints lines holding escape sequences (window title, clear screen, colours), a
//                        carriage return, a C1 CSI (U+009B), a right-to-left override and a tab, on stdout
//                        and on stderr;
//   {"file_name": true}  leaves a file in $HUTCH_OUT whose name holds an escape sequence (hutchd fails the
//                        job with a sentence naming it);
//   {"depth": N}         writes N nested JSON arrays to fd 3 ("[[[...]]]", valid JSON of 2N bytes; N at
//                        most 500000, under the 1 MiB output cap);
//   {"exit": N}          ends with that code after all of it.
#include <cstdio>
#include <fstream>
#include <string>

#include "tests/programs/program_input.h"

namespace {

constexpr const char *kProgram = "terminal_attack";

}  // namespace

int main() {
  using namespace hutch::programs;
  auto input = input_or_exit(kProgram);
  if (bool_param(kProgram, input, "lines", false)) {
    std::printf("title \x1b]0;owned\x07 set\n");
    std::printf("clear \x1b[2J\x1b[H screen\n");
    std::printf("carriage\rreturn\n");
    std::printf("c1 \xc2\x9b" "31m csi\n");
    std::printf("bidi \xe2\x80\xae reversed\n");
    std::printf("tab\tkept\n");
    std::fflush(stdout);
    std::fprintf(stderr, "stderr \x1b[31mred\x1b[0m\n");
  }
  if (bool_param(kProgram, input, "file_name", false)) {
    const char *out = std::getenv("HUTCH_OUT");
    if (out == nullptr) exit_bad_input(kProgram, "file_name: $HUTCH_OUT is not set (hutchd runs without root?)");
    std::ofstream(std::string(out) + "/evil\x1b]0;owned\x07.txt") << "x";
  }
  long long depth = integer_param(kProgram, input, "depth", 0, 0, 500000);
  if (depth > 0) {
    std::string nested = std::string(static_cast<size_t>(depth), '[') + std::string(static_cast<size_t>(depth), ']');
    if (auto written = hutch::fn::write_result_text(nested); !written) {
      std::fprintf(stderr, "%s: %s\n", kProgram, written.error().message.c_str());
      return 1;
    }
  }
  return static_cast<int>(integer_param(kProgram, input, "exit", 0, 0, 255));
}
