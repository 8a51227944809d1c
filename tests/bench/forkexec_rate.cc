// forkexec_rate: the yardstick for hutch's speed target. It measures the bare cost of fork + execve +
// waitpid of a trivial program (/bin/true by default), with no sandbox at all, so that hutch's jobs/s can be
// stated as a fraction of it measured on the same machine in the same run (absolute rates drift between VMs).
//
// Concurrency C keeps C children in flight from one parent: it starts C, and each time one is reaped it
// starts the next until N have run. That is what a supervisor with C slots does, minus everything else.
//
// Output, one machine-readable line per concurrency:
//   forkexec_rate concurrency=1 iterations=2000 per_sec=1234.5 seconds=1.620
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern char **environ;

namespace {

struct Options {
  int iterations = 2000;
  std::vector<int> concurrencies = {1, 2};
  std::string program = "/bin/true";
};

void print_usage(FILE *out) {
  std::fprintf(out,
               "usage: forkexec_rate [--iterations N] [--concurrency C[,C...]] [--program PATH]\n"
               "\n"
               "Runs PATH (default /bin/true) N times (default 2000) with fork+execve+waitpid, keeping C children\n"
               "in flight (default: 1, then 2), and prints one line per C:\n"
               "  forkexec_rate concurrency=C iterations=N per_sec=R seconds=S\n");
}

bool parse_positive(const char *text, int &value) {
  char *end = nullptr;
  errno = 0;
  long parsed = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || parsed <= 0 || parsed > 100'000'000) return false;
  value = static_cast<int>(parsed);
  return true;
}

bool parse_concurrencies(const std::string &text, std::vector<int> &values) {
  values.clear();
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    int value = 0;
    if (!parse_positive(item.c_str(), value) || value > 1024) return false;
    values.push_back(value);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return !values.empty();
}

// Returns 0 on success, 1 after printing a usage error, 2 after printing help.
int parse_options(int argc, char **argv, Options &options) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      print_usage(stdout);
      return 2;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "forkexec_rate: %s needs a value\n", flag.c_str());
      return 1;
    }
    const char *value = argv[++i];
    if (flag == "--iterations") {
      if (!parse_positive(value, options.iterations)) {
        std::fprintf(stderr, "forkexec_rate: --iterations '%s' is not a positive number\n", value);
        return 1;
      }
    } else if (flag == "--concurrency") {
      if (!parse_concurrencies(value, options.concurrencies)) {
        std::fprintf(stderr, "forkexec_rate: --concurrency '%s': use positive numbers like 1,2\n", value);
        return 1;
      }
    } else if (flag == "--program") {
      options.program = value;
    } else {
      std::fprintf(stderr, "forkexec_rate: unknown flag '%s'\n", flag.c_str());
      print_usage(stderr);
      return 1;
    }
  }
  return 0;
}

// Starts one child running the program; -1 when fork failed. The child only calls execve and _exit.
pid_t start_child(char *const *child_argv) {
  pid_t pid = fork();
  if (pid == 0) {
    execve(child_argv[0], child_argv, environ);
    _exit(127);
  }
  return pid;
}

// Reaps one child; false (with a message) when it did not exit 0, so a broken program cannot pass for a fast one.
bool reap_one() {
  int status = 0;
  pid_t pid;
  do {
    pid = waitpid(-1, &status, 0);
  } while (pid < 0 && errno == EINTR);
  if (pid < 0) {
    std::fprintf(stderr, "forkexec_rate: waitpid: %s\n", std::strerror(errno));
    return false;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "forkexec_rate: child %d ended with wait status 0x%x (exec failed?)\n", pid, status);
    return false;
  }
  return true;
}

// Runs `iterations` children with at most `concurrency` in flight; returns elapsed seconds, or < 0 on failure.
double run(const Options &options, int concurrency) {
  std::string program = options.program;
  char *child_argv[] = {program.data(), nullptr};
  auto start = std::chrono::steady_clock::now();
  int started = 0;
  int in_flight = 0;
  while (started < options.iterations || in_flight > 0) {
    while (in_flight < concurrency && started < options.iterations) {
      if (start_child(child_argv) < 0) {
        std::fprintf(stderr, "forkexec_rate: fork: %s\n", std::strerror(errno));
        while (in_flight-- > 0) reap_one();
        return -1;
      }
      ++started;
      ++in_flight;
    }
    bool ok = reap_one();
    --in_flight;
    if (!ok) {
      while (in_flight-- > 0) reap_one();
      return -1;
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char **argv) {
  Options options;
  if (int parsed = parse_options(argc, argv, options); parsed != 0) return parsed == 2 ? 0 : 1;
  if (access(options.program.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "forkexec_rate: '%s' is not executable: %s\n", options.program.c_str(),
                 std::strerror(errno));
    return 1;
  }
  // Warm the page cache and the dynamic loader's paths so the first measured run is not the cold one.
  Options warm_up = options;
  warm_up.iterations = options.iterations < 50 ? options.iterations : 50;
  if (run(warm_up, 1) < 0) return 1;

  for (int concurrency : options.concurrencies) {
    double seconds = run(options, concurrency);
    if (seconds < 0) return 1;
    std::printf("forkexec_rate concurrency=%d iterations=%d per_sec=%.1f seconds=%.3f\n", concurrency,
                options.iterations, options.iterations / seconds, seconds);
    std::fflush(stdout);
  }
  return 0;
}
