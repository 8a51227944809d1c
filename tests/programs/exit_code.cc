// exit_code: ends the way a test asks, after an optional result on fd 3.
//   {"code": N}             prints a line and exits with N (0-255, default 0);
//   {"signal": "SEGV"}      raises that signal (with or without "SIG"), with core dumps off;
//   {"output": "<text>"}    writes the text as given to fd 3, valid JSON or not;
//   {"output_bytes": N}     writes a valid JSON string of exactly N bytes (2 to 16 MiB) to fd 3.
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/programs/program_input.h"

namespace {

constexpr const char *kProgram = "exit_code";

struct SignalName {
  const char *name;
  int number;
};

// The signals whose default action ends the process.
constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ILL", SIGILL},   {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT}, {"BUS", SIGBUS},   {"FPE", SIGFPE},   {"KILL", SIGKILL}, {"USR1", SIGUSR1},
    {"SEGV", SIGSEGV}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"SYS", SIGSYS},   {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

void write_text_or_exit(const std::string &text) {
  if (auto written = hutch::fn::write_result_text(text); !written) {
    std::fprintf(stderr, "exit_code: %s\n", written.error().message.c_str());
    std::exit(1);
  }
}

[[noreturn]] void die_by_signal(const std::string &given) {
  std::string name = given.rfind("SIG", 0) == 0 ? given.substr(3) : given;
  for (const auto &signal : kSignals) {
    if (name != signal.name) continue;
    std::printf("raising SIG%s\n", signal.name);
    std::fflush(stdout);
    // No core file in whatever directory this runs in.
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    std::signal(signal.number, SIG_DFL);
    sigset_t only{};
    sigemptyset(&only);
    sigaddset(&only, signal.number);
    sigprocmask(SIG_UNBLOCK, &only, nullptr);
    std::raise(signal.number);
    std::fprintf(stderr, "exit_code: SIG%s did not end the process\n", signal.name);
    std::exit(1);
  }
  std::string known;
  for (const auto &signal : kSignals) known += std::string(known.empty() ? "" : ", ") + signal.name;
  hutch::programs::exit_bad_input(kProgram, "signal: '" + given.substr(0, 64) + "' is not one of " + known);
}

}  // namespace

int main() {
  using namespace hutch::programs;
  auto input = input_or_exit(kProgram);
  long long code = integer_param(kProgram, input, "code", 0, 0, 255);
  if (field_or_null(input, "output") != nullptr) write_text_or_exit(string_param(kProgram, input, "output", ""));
  if (field_or_null(input, "output_bytes") != nullptr) {
    long long bytes = integer_param(kProgram, input, "output_bytes", 2, 2, 16LL << 20);
    write_text_or_exit("\"" + std::string(static_cast<size_t>(bytes - 2), 'a') + "\"");
  }
  if (field_or_null(input, "signal") != nullptr) die_by_signal(string_param(kProgram, input, "signal", ""));
  std::printf("exiting with code %lld\n", code);
  std::fflush(stdout);
  return static_cast<int>(code);
}
