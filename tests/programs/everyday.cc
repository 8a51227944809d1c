// everyday: what an ordinary multi-threaded C++ program does, for the seccomp allowlist's tests. It runs
// {"threads": T} worker threads (default 4, cap 16) that hand work to each other through a mutex and a
// condition variable (futex waits), uses std::async, thread-local storage, a large allocation (mmap), the
// clocks, getrandom, a loopback TCP connection inside the job and a child started with posix_spawn (which
// tries clone3 first and falls back to clone when the policy answers ENOSYS). Any failed step exits 1 with
// the step and errno on stderr; success writes {"threads", "sum", "child_exit", "loopback_bytes"}.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <future>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include "tests/programs/program_input.h"

namespace {

constexpr const char *kProgram = "everyday";

[[noreturn]] void die(const char *step) {
  std::fprintf(stderr, "%s: %s: %s\n", kProgram, step, std::strerror(errno));
  std::exit(1);
}

thread_local long handled = 0;

// Producers push numbers, consumers pop and add them: every wait is a futex.
long long hand_work_around(long long thread_count) {
  std::mutex mutex;
  std::condition_variable ready;
  std::queue<long long> work;
  bool done = false;
  long long sum = 0;
  std::vector<std::thread> consumers;
  for (long long i = 0; i < thread_count; ++i) {
    consumers.emplace_back([&] {
      std::unique_lock lock(mutex);
      for (;;) {
        ready.wait(lock, [&] { return done || !work.empty(); });
        if (work.empty()) return;
        sum += work.front();
        work.pop();
        ++handled;
      }
    });
  }
  for (long long n = 1; n <= 10000; ++n) {
    std::lock_guard lock(mutex);
    work.push(n);
    ready.notify_one();
  }
  {
    std::lock_guard lock(mutex);
    done = true;
  }
  ready.notify_all();
  for (auto &consumer : consumers) consumer.join();
  return sum;
}

int spawn_child() {
  pid_t pid = 0;
  char *argv[] = {const_cast<char *>("true"), nullptr};
  if (int rc = posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ); rc != 0) {
    errno = rc;
    die("posix_spawn /bin/true");
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) die("waitpid");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A listening socket on 127.0.0.1 inside the job's own network namespace, a client, five bytes across.
long loopback_round_trip() {
  int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (server < 0) die("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(server, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) die("bind");
  if (::listen(server, 1) != 0) die("listen");
  if (::getsockname(server, reinterpret_cast<sockaddr *>(&address), &length) != 0) die("getsockname");
  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (client < 0) die("socket");
  if (::connect(client, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) die("connect");
  int accepted = ::accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
  if (accepted < 0) die("accept4");
  if (::send(client, "hello", 5, 0) != 5) die("send");
  char buffer[5];
  ssize_t received = ::recv(accepted, buffer, sizeof buffer, MSG_WAITALL);
  if (received < 0) die("recv");
  ::close(accepted);
  ::close(client);
  ::close(server);
  return static_cast<long>(received);
}

}  // namespace

int main() {
  auto input = hutch::programs::input_or_exit(kProgram);
  long long thread_count = hutch::programs::integer_param(kProgram, input, "threads", 4, 1, 16);

  long long sum = hand_work_around(thread_count);
  auto doubled = std::async(std::launch::async, [sum] { return sum * 2; });
  std::vector<char> big(64 << 20, 1);  // above the mmap threshold: its own mapping
  unsigned char random_bytes[16];
  if (::getrandom(random_bytes, sizeof random_bytes, 0) != static_cast<ssize_t>(sizeof random_bytes)) die("getrandom");
  timespec now{};
  if (::clock_gettime(CLOCK_MONOTONIC, &now) != 0) die("clock_gettime");
  int child_exit = spawn_child();
  long loopback_bytes = loopback_round_trip();
  if (doubled.get() != sum * 2 || big[big.size() - 1] != 1) die("arithmetic");

  hutch::programs::write_result_or_exit(
      kProgram, {{"threads", thread_count}, {"sum", sum}, {"child_exit", child_exit}, {"loopback_bytes", loopback_bytes}});
  return 0;
}
