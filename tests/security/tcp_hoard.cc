// Attack: hold host memory in loopback TCP buffers. Each pair is a connection to itself over 127.0.0.1 whose
// receiving end never reads, so whatever the sender writes stays queued in socket buffers: kernel memory
// that cgroup v1 does not count against the job's memory unless its TCP accounting is on.
// {"pairs": P, "seconds": S} opens P pairs (default 200, cap 400: the open-files limit is 1024), writes into
// each until it would block (at most 64 MiB per pair), prints "holding N bytes in P pairs", holds them S
// seconds (default 3, cap 10) and reports {"pairs": P, "bytes": N, "error": the errno name that stopped
// opening more pairs, or "none"}.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/programs/program_input.h"
#include "tests/security/attempt.h"

namespace {

constexpr long long kMaxBytesPerPair = 64LL << 20;

// Writes into `fd` (non-blocking) until the kernel takes no more; the bytes it took.
long long fill(int fd) {
  static const std::vector<char> block(64 << 10, 'x');
  long long queued = 0;
  while (queued < kMaxBytesPerPair) {
    ssize_t n = ::send(fd, block.data(), block.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n <= 0) break;
    queued += n;
  }
  return queued;
}

}  // namespace

int main() {
  constexpr const char *kProgram = "tcp_hoard";
  auto input = hutch::programs::input_or_exit(kProgram);
  long long pairs = hutch::programs::integer_param(kProgram, input, "pairs", 200, 1, 400);
  double seconds = hutch::programs::number_param(kProgram, input, "seconds", 3, 0, 10);

  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr *>(&address), length) != 0 ||
      ::listen(listener, 16) != 0 || ::getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length) != 0) {
    std::perror("tcp_hoard: listen on 127.0.0.1");
    return 1;
  }
  std::string error = "none";
  long long opened = 0, bytes = 0;
  for (; opened < pairs; ++opened) {
    int sender = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sender < 0 || ::connect(sender, reinterpret_cast<sockaddr *>(&address), length) != 0) {
      error = hutch::attack::errno_name(errno);
      break;
    }
    int receiver = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);  // kept open, never read
    if (receiver < 0) {
      error = hutch::attack::errno_name(errno);
      break;
    }
    bytes += fill(sender);
  }
  std::printf("holding %lld bytes in %lld pairs\n", bytes, opened);
  std::fflush(stdout);
  hutch::attack::hold_for(seconds);
  hutch::programs::write_result_or_exit(kProgram, {{"pairs", opened}, {"bytes", bytes}, {"error", error}});
  return 0;
}
