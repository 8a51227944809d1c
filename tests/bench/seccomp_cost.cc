// seccomp_cost: what the seccomp filter adds to one job's start (docs/benchmarks.md, "Seccomp per job"). A
// child is forked, sets no_new_privs, and execs a program that exits at once, with or without hutch's
// compiled default policy installed right before execve, as sandbox/child.cc does; the parent waits. The
// difference is the install (the kernel checks, converts and JIT-compiles the program) plus the filter run
// on every call of the exec and the program's start.
//
// The two ways alternate in short rounds, so a machine that gets busier or quieter affects both alike, and
// the median round is reported, as wall time and as CPU time (this process and its children, user and
// system: what a loaded machine inflates least):
//   seccomp_cost program=PATH rounds=R iterations=N without_us=A with_us=B added_us=C
//                without_cpu_us=D with_cpu_us=E added_cpu_us=F instructions=I
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/seccomp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sandbox/seccomp.h"
#include "sandbox/seccomp_policy.h"

extern char **environ;

namespace {

struct Options {
  std::string program = STATIC_TRUE_PATH;
  int rounds = 21;
  int iterations = 100;  // per round and way
};

// One fork + (filter) + execve + waitpid; false when the child did not exit 0.
bool run_once(char *const *argv, const sock_fprog *filter) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(126);
    if (filter != nullptr && ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, filter) != 0) ::_exit(125);
    ::execve(argv[0], argv, environ);
    ::_exit(127);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct RoundTimes {
  double wall_us = -1;  // < 0 when a run failed
  double cpu_us = 0;
};

double cpu_seconds(int who) {
  rusage usage{};
  ::getrusage(who, &usage);
  auto seconds = [](const timeval &t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Microseconds per run over `iterations` runs, wall and CPU.
RoundTimes run_round(char *const *argv, const sock_fprog *filter, int iterations) {
  double cpu_before = cpu_seconds(RUSAGE_SELF) + cpu_seconds(RUSAGE_CHILDREN);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) {
    if (!run_once(argv, filter)) return {};
  }
  std::chrono::duration<double, std::micro> elapsed = std::chrono::steady_clock::now() - start;
  double cpu = cpu_seconds(RUSAGE_SELF) + cpu_seconds(RUSAGE_CHILDREN) - cpu_before;
  return {elapsed.count() / iterations, cpu * 1e6 / iterations};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

bool parse_options(int argc, char **argv, Options &options) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return false;
    const char *value = argv[++i];
    if (flag == "--program") {
      options.program = value;
    } else if (flag == "--rounds" || flag == "--iterations") {
      int number = std::atoi(value);
      if (number <= 0 || number > 100000) return false;
      (flag == "--rounds" ? options.rounds : options.iterations) = number;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char **argv) {
  Options options;
  if (!parse_options(argc, argv, options)) {
    std::fprintf(stderr, "usage: seccomp_cost [--program PATH] [--rounds R] [--iterations N]\n");
    return 1;
  }
  auto policy = hutch::default_seccomp_policy();
  if (!policy) {
    std::fprintf(stderr, "seccomp_cost: %s\n", policy.error().message.c_str());
    return 1;
  }
  auto program = hutch::SeccompProgram::compile(*policy);
  if (!program) {
    std::fprintf(stderr, "seccomp_cost: %s\n", program.error().message.c_str());
    return 1;
  }
  char *child_argv[] = {options.program.data(), nullptr};
  std::vector<double> without, with, added, without_cpu, with_cpu, added_cpu;
  for (int round = 0; round < options.rounds; ++round) {
    RoundTimes plain = run_round(child_argv, nullptr, options.iterations);
    RoundTimes filtered = run_round(child_argv, program->program(), options.iterations);
    if (plain.wall_us < 0 || filtered.wall_us < 0) {
      std::fprintf(stderr, "seccomp_cost: %s did not exit 0 (with the filter: %s)\n", options.program.c_str(),
                   filtered.wall_us < 0 ? "yes" : "no");
      return 1;
    }
    without.push_back(plain.wall_us);
    with.push_back(filtered.wall_us);
    added.push_back(filtered.wall_us - plain.wall_us);
    without_cpu.push_back(plain.cpu_us);
    with_cpu.push_back(filtered.cpu_us);
    added_cpu.push_back(filtered.cpu_us - plain.cpu_us);
  }
  std::printf("seccomp_cost program=%s rounds=%d iterations=%d without_us=%.1f with_us=%.1f added_us=%.1f "
              "without_cpu_us=%.1f with_cpu_us=%.1f added_cpu_us=%.1f instructions=%zu\n",
              options.program.c_str(), options.rounds, options.iterations, median(without), median(with),
              median(added), median(without_cpu), median(with_cpu), median(added_cpu),
              program->instruction_count());
  return 0;
}
