// What the attack programs report: each attempt becomes "ok" or the name of the errno that stopped it, so a
// test asserts on the reason ("ENOENT": not there; "EROFS": read-only; "EPERM": not allowed), not on a bool.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <time.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>

namespace hutch::attack {

inline std::string errno_name(int error) {
  const char *name = ::strerrorname_np(error);
  return name != nullptr ? name : "errno " + std::to_string(error);
}

// "ok" when a system call's result says it worked, else the errno it left.
inline std::string outcome(long result) {
  return result >= 0 ? "ok" : errno_name(errno);
}

enum class Access {
  kRead,   // open and read one byte: "ok" only when both worked
  kOpen,   // open for reading only: for files where opening is the permission check (/proc/<pid>/mem)
  kWrite,  // open for writing, write nothing
};

inline std::string try_open(const std::string &path, Access access = Access::kRead) {
  int flags = (access == Access::kWrite ? O_WRONLY : O_RDONLY) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) return errno_name(errno);
  std::string result = "ok";
  char byte;
  if (access == Access::kRead && ::read(fd, &byte, 1) < 0 && errno != EAGAIN) result = errno_name(errno);
  ::close(fd);
  return result;
}

// Sleeps `seconds` whatever signals come: how an attack holds what it took while the test looks.
inline void hold_for(double seconds) {
  timespec remaining{static_cast<time_t>(seconds), static_cast<long>(std::fmod(seconds, 1.0) * 1e9)};
  while (::nanosleep(&remaining, &remaining) != 0 && errno == EINTR) {
  }
}

inline constexpr int kConnectWaitMilliseconds = 1000;

// A TCP connection to `address` (IPv4 or IPv6 text) and `port`, waiting at most 1 s: "connected" or the
// errno name of the failure.
inline std::string try_connect(const std::string &address, int port) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  auto *ipv4 = reinterpret_cast<sockaddr_in *>(&storage);
  auto *ipv6 = reinterpret_cast<sockaddr_in6 *>(&storage);
  if (::inet_pton(AF_INET, address.c_str(), &ipv4->sin_addr) == 1) {
    ipv4->sin_family = AF_INET;
    ipv4->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof *ipv4;
  } else if (::inet_pton(AF_INET6, address.c_str(), &ipv6->sin6_addr) == 1) {
    ipv6->sin6_family = AF_INET6;
    ipv6->sin6_port = htons(static_cast<uint16_t>(port));
    length = sizeof *ipv6;
  } else {
    return "not an address";
  }
  int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_name(errno);
  std::string result = "connected";
  if (::connect(fd, reinterpret_cast<sockaddr *>(&storage), length) != 0) {
    if (errno != EINPROGRESS) {
      result = errno_name(errno);
    } else {
      pollfd waiting{fd, POLLOUT, 0};
      int error = ETIMEDOUT;
      socklen_t error_length = sizeof error;
      if (::poll(&waiting, 1, kConnectWaitMilliseconds) == 1)
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_length);
      if (error != 0) result = errno_name(error);
    }
  }
  ::close(fd);
  return result;
}

}  // namespace hutch::attack
