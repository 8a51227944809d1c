// The victim of spy_on_neighbour: a job with something to find. {"tag": T, "seconds": S} writes
// hutch-neighbour-T into /tmp and the working directory, listens on 127.0.0.1 (any port) and on the
// abstract unix socket "hutch-neighbour-T", prints "listening on port P" and then "ready", and sleeps S
// seconds (default 3, cap 10). Then it checks its files are as it left them and counts the connections that
// reached it. Returns {"files_intact": bool, "tcp_connections": N, "unix_connections": N}.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/programs/program_input.h"
#include "tests/security/neighbour_names.h"

namespace {

std::string read_text(const std::string &path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

int listen_tcp(int *port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr *>(&address), length) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0) {
    std::perror("neighbour: tcp listen");
    return -1;
  }
  *port = ntohs(address.sin_port);
  return fd;
}

int listen_abstract(const std::string &name) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  hutch::attack::AbstractAddress address = hutch::attack::abstract_address(name);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr *>(&address.address), address.length) != 0 ||
      ::listen(fd, 16) != 0) {
    std::perror("neighbour: unix listen");
    return -1;
  }
  return fd;
}

int count_connections(int listener) {
  int count = 0;
  for (int fd; listener >= 0 && count < 1000 && (fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;
       ++count)
    ::close(fd);
  return count;
}

}  // namespace

int main() {
  constexpr const char *kProgram = "neighbour";
  auto input = hutch::programs::input_or_exit(kProgram);
  std::string tag = hutch::attack::neighbour_tag_or_exit(kProgram, input);
  double seconds = hutch::programs::number_param(kProgram, input, "seconds", 3, 0, 10);

  const std::string name = hutch::attack::neighbour_name(tag), secret = "secret of " + tag + "\n";
  for (const char *directory : {"/tmp", "."}) {
    std::ofstream(std::string(directory) + "/" + name) << secret;
  }
  int port = 0;
  int tcp = listen_tcp(&port);
  int unix_socket = listen_abstract(name);
  if (tcp < 0 || unix_socket < 0) return 1;
  std::printf("listening on port %d\nready\n", port);
  std::fflush(stdout);

  double whole = std::floor(seconds);
  timespec remaining{.tv_sec = static_cast<time_t>(whole), .tv_nsec = static_cast<long>((seconds - whole) * 1e9)};
  while (::nanosleep(&remaining, &remaining) != 0 && errno == EINTR) {
  }
  bool intact = read_text("/tmp/" + name) == secret && read_text("./" + name) == secret;
  hutch::programs::write_result_or_exit(kProgram, {{"files_intact", intact},
                                                   {"tcp_connections", count_connections(tcp)},
                                                   {"unix_connections", count_connections(unix_socket)}});
  return 0;
}
