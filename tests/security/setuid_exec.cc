// Attack: gain root through a setuid-root binary. The sandbox sees the host's /usr read-only, so a setuid
// program there is within reach; {"path": P} names one (the test installs report_ids as root, mode 4755).
// The program records what should stop it before trying: whether P's mount is nosuid and whether
// no_new_privs is set. Then it runs P with its stdout on a pipe and returns
// {"file": {"setuid", "owner"}, "nosuid": bool, "no_new_privs": "1", "ran": "uid=... euid=... suid=... capeff=..."}
// (or "exec_error" naming the errno when P could not run).
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/programs/program_input.h"
#include "tests/security/attempt.h"

namespace {

std::string no_new_privs() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("NoNewPrivs:", 0) == 0) return line.substr(line.find_first_not_of(" \t", 11));
  }
  return "?";
}

// Runs `path` and returns its first line of output, or "exec: <errno name>".
std::string run(const std::string &path) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return "pipe: " + hutch::attack::errno_name(errno);
  std::fflush(stdout);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::execl(path.c_str(), path.c_str(), static_cast<char *>(nullptr));
    std::string failed = "exec: " + hutch::attack::errno_name(errno) + "\n";
    ssize_t ignored = ::write(STDOUT_FILENO, failed.data(), failed.size());
    (void)ignored;
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  std::string output;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0 && output.size() < 4096;)
    output.append(buffer, static_cast<size_t>(n));
  ::close(pipe_fds[0]);
  if (pid > 0) ::waitpid(pid, nullptr, 0);
  if (pid < 0) return "fork: " + hutch::attack::errno_name(errno);
  return output.substr(0, output.find('\n'));
}

}  // namespace

int main() {
  constexpr const char *kProgram = "setuid_exec";
  auto input = hutch::programs::input_or_exit(kProgram);
  std::string path = hutch::programs::string_param(kProgram, input, "path", "");
  if (path.empty() || path[0] != '/') hutch::programs::exit_bad_input(kProgram, "path: use an absolute path");

  nlohmann::json report;
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    report["file"] = hutch::attack::errno_name(errno);
  } else {
    report["file"] = {{"setuid", (info.st_mode & S_ISUID) != 0}, {"owner", info.st_uid}};
  }
  struct statvfs mount {};
  report["nosuid"] = ::statvfs(path.c_str(), &mount) == 0 ? nlohmann::json((mount.f_flag & ST_NOSUID) != 0)
                                                          : nlohmann::json(hutch::attack::errno_name(errno));
  report["no_new_privs"] = no_new_privs();
  report["uid"] = ::getuid();
  report["ran"] = run(path);
  std::printf("%s\n", report.dump().c_str());
  std::fflush(stdout);
  hutch::programs::write_result_or_exit(kProgram, report);
  return 0;
}
