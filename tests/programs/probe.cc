// probe: reports what a sandboxed job sees from inside, so isolation tests assert facts rather than exit
// codes (like crun's tests/init.c and bubblewrap's try-syscall.c). Input: {"connect_port": P} also tries a
// TCP connection to 127.0.0.1:P (the Redis hutchd uses). Output on fd 3, one JSON object:
//   uid, gid, groups, hostname, pid (as the job sees itself), visible_processes (numeric entries of /proc),
//   status: the CapEff/CapPrm/CapBnd/CapAmb/NoNewPrivs/Seccomp lines of /proc/self/status,
//   connect: "connected" or the errno name of the failed connect.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "tests/programs/program_input.h"

namespace {

int count_processes() {
  int count = 0;
  DIR *proc = ::opendir("/proc");
  if (proc == nullptr) return -1;
  while (dirent *entry = ::readdir(proc)) {
    if (std::atoi(entry->d_name) > 0) ++count;
  }
  ::closedir(proc);
  return count;
}

nlohmann::json status_lines() {
  nlohmann::json lines = nlohmann::json::object();
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    for (const char *key : {"CapEff", "CapPrm", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"}) {
      std::string prefix = std::string(key) + ":";
      if (line.rfind(prefix, 0) == 0) {
        std::string value = line.substr(prefix.size());
        value.erase(0, value.find_first_not_of(" \t"));
        lines[key] = value;
      }
    }
  }
  return lines;
}

std::string try_connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ::strerrorname_np(errno);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string result = ::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0
                           ? "connected"
                           : ::strerrorname_np(errno);
  ::close(fd);
  return result;
}

}  // namespace

int main() {
  constexpr const char *kProgram = "probe";
  auto input = hutch::programs::input_or_exit(kProgram);
  long long port = hutch::programs::integer_param(kProgram, input, "connect_port", 0, 0, 65535);

  nlohmann::json report;
  report["uid"] = ::getuid();
  report["gid"] = ::getgid();
  gid_t groups[64];
  int group_count = ::getgroups(64, groups);
  report["groups"] = nlohmann::json::array();
  for (int i = 0; i < group_count; ++i) report["groups"].push_back(groups[i]);
  char hostname[256] = {};
  ::gethostname(hostname, sizeof hostname - 1);
  report["hostname"] = hostname;
  report["pid"] = ::getpid();
  report["visible_processes"] = count_processes();
  report["status"] = status_lines();
  if (port > 0) report["connect"] = try_connect(static_cast<int>(port));
  hutch::programs::write_result_or_exit(kProgram, report);
  return 0;
}
