// Attack: find and harm another job running at the same time (tests/security/neighbour.cc is the victim).
// Input {"tag": T, "victim_pid": host pid of the victim, "tcp_port": the port it listens on}. It looks for the
// victim's files in /tmp and the working directory, lists /proc, probes every pid from 1 to 4096 with
// kill(pid, 0), sends SIGKILL to every pid it found but its own init and itself and to the victim's host pid,
// and connects to the victim's loopback port and abstract unix socket. Returns
// {"entries": {"/tmp": [...], ".": [...]}, "victim_files": {path: result}, "proc": [pids], "alive": [pids],
//  "killed": [pids], "victim_pid": result, "sockets": {"tcp": result, "unix": result}}.
#include <dirent.h>
#include <signal.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/programs/program_input.h"
#include "tests/security/attempt.h"
#include "tests/security/neighbour_names.h"

namespace {

constexpr int kHighestPidGuess = 4096;

std::vector<std::string> entries_of(const char *directory) {
  std::vector<std::string> names;
  DIR *listing = ::opendir(directory);
  if (listing == nullptr) return {"opendir: " + hutch::attack::errno_name(errno)};
  while (dirent *entry = ::readdir(listing)) {
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0)
      names.emplace_back(entry->d_name);
  }
  ::closedir(listing);
  return names;
}

std::vector<int> pids_in_proc() {
  std::vector<int> pids;
  for (const std::string &name : entries_of("/proc")) {
    if (name.find_first_not_of("0123456789") == std::string::npos) pids.push_back(std::stoi(name));
  }
  return pids;
}

std::string connect_abstract(const std::string &name) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return hutch::attack::errno_name(errno);
  hutch::attack::AbstractAddress address = hutch::attack::abstract_address(name);
  std::string result = ::connect(fd, reinterpret_cast<sockaddr *>(&address.address), address.length) == 0
                           ? "connected"
                           : hutch::attack::errno_name(errno);
  ::close(fd);
  return result;
}

}  // namespace

int main() {
  constexpr const char *kProgram = "spy_on_neighbour";
  auto input = hutch::programs::input_or_exit(kProgram);
  std::string tag = hutch::attack::neighbour_tag_or_exit(kProgram, input);
  long long victim_pid = hutch::programs::integer_param(kProgram, input, "victim_pid", 0, 0, 1 << 22);
  long long tcp_port = hutch::programs::integer_param(kProgram, input, "tcp_port", 0, 0, 65535);
  const std::string name = hutch::attack::neighbour_name(tag);

  nlohmann::json report;
  report["entries"] = {{"/tmp", entries_of("/tmp")}, {".", entries_of(".")}};
  report["victim_files"] = {{"/tmp/" + name, hutch::attack::try_open("/tmp/" + name)},
                            {"./" + name, hutch::attack::try_open("./" + name)}};
  report["proc"] = pids_in_proc();

  const pid_t me = ::getpid();
  std::vector<int> alive, killed;
  for (int pid = 1; pid <= kHighestPidGuess; ++pid) {
    if (pid != me && (::kill(pid, 0) == 0 || errno == EPERM)) alive.push_back(pid);
  }
  for (int pid : alive) {
    if (pid != 1 && ::kill(pid, SIGKILL) == 0) killed.push_back(pid);
  }
  report["alive"] = alive;
  report["killed"] = killed;
  if (victim_pid > 0) report["victim_pid"] = hutch::attack::outcome(::kill(static_cast<pid_t>(victim_pid), SIGKILL));
  report["sockets"] = {
      {"unix", connect_abstract(name)},
      {"tcp", tcp_port > 0 ? hutch::attack::try_connect("127.0.0.1", static_cast<int>(tcp_port)) : "no port"}};
  std::printf("%s\n", report.dump().c_str());
  std::fflush(stdout);
  hutch::programs::write_result_or_exit(kProgram, report);
  return 0;
}
