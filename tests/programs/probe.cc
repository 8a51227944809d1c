// probe: reports what a sandboxed job sees from inside, so isolation tests assert facts rather than exit
// codes (like crun's tests/init.c and bubblewrap's try-syscall.c). Input: {"connect_port": P} also tries a
// TCP connection to 127.0.0.1:P (the Redis hutchd uses). Output on fd 3, one JSON object:
//   uid, gid, groups, hostname, pid (as the job sees itself), visible_processes (numeric entries of /proc),
//   status: the CapEff/CapPrm/CapBnd/CapAmb/NoNewPrivs/Seccomp lines of /proc/self/status,
//   connect: "connected" or the errno name of the failed connect,
//   cwd, exists: {path: bool} for paths a sandbox must or must not have,
//   write: {directory: "ok" or the errno name} for a file created in each directory,
//   read: {path: "ok" or the errno name} for files of the job's init (root) and a public one,
//   new_user_namespace: "ok" or the errno name of clone(CLONE_NEWUSER) (the child exits at once),
//   with {"fill_tmp_mb": N}: fill_tmp: {"written_mb", "error"} after writing up to N MiB into /tmp,
//   with {"leave_tmp_file": true}: creates /tmp/left-by-probe and /work/left-by-probe and leaves them.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

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

std::string errno_name(int error) { return ::strerrorname_np(error); }

nlohmann::json existing_paths() {
  nlohmann::json exists = nlohmann::json::object();
  for (const char *path : {"/etc/shadow", "/root", "/home", "/sys", "/var", "/run", "/boot", "/dev/mem", "/dev/kmsg",
                           "/dev/vda", "/dev/sda", "/dev/null", "/dev/urandom", "/usr/bin", "/etc/passwd",
                           "/etc/ld.so.cache", "/tmp", "/work", "/tmp/left-by-probe", "/work/left-by-probe"}) {
    struct stat info {};
    exists[path] = ::lstat(path, &info) == 0;
  }
  return exists;
}

nlohmann::json read_attempts() {
  nlohmann::json results = nlohmann::json::object();
  for (const char *path : {"/proc/1/environ", "/proc/1/mem", "/etc/passwd"}) {
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      results[path] = errno_name(errno);
      continue;
    }
    char byte;
    results[path] = ::read(fd, &byte, 1) >= 0 ? "ok" : errno_name(errno);
    ::close(fd);
  }
  return results;
}

nlohmann::json write_attempts() {
  nlohmann::json results = nlohmann::json::object();
  for (const char *dir : {"/", "/usr", "/etc", "/dev", "/proc", "/tmp", "/work"}) {
    std::string path = std::string(dir) + (std::string(dir) == "/" ? "" : "/") + "probe-write-test";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      results[dir] = errno_name(errno);
      continue;
    }
    ::close(fd);
    ::unlink(path.c_str());
    results[dir] = "ok";
  }
  return results;
}

// clone, not unshare: seccomp kills unshare, and the question is whether the kernel allows one at all.
std::string try_new_user_namespace() {
  long pid = ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, nullptr, nullptr, 0);
  if (pid < 0) return errno_name(errno);
  if (pid == 0) ::_exit(0);
  ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
  return "ok";
}

nlohmann::json fill_tmp(long long megabytes) {
  std::vector<char> block(1 << 20, 'x');
  int fd = ::open("/tmp/fill", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return {{"written_mb", 0}, {"error", errno_name(errno)}};
  long long written = 0;
  std::string error = "none";
  for (; written < megabytes; ++written) {
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) {
      error = errno_name(errno);
      break;
    }
  }
  ::close(fd);
  ::unlink("/tmp/fill");
  return {{"written_mb", written}, {"error", error}};
}

}  // namespace

int main() {
  constexpr const char *kProgram = "probe";
  auto input = hutch::programs::input_or_exit(kProgram);
  long long port = hutch::programs::integer_param(kProgram, input, "connect_port", 0, 0, 65535);
  long long fill_mb = hutch::programs::integer_param(kProgram, input, "fill_tmp_mb", 0, 0, 1024);

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
  char cwd[4096] = {};
  report["cwd"] = ::getcwd(cwd, sizeof cwd) != nullptr ? cwd : errno_name(errno);
  report["exists"] = existing_paths();
  report["write"] = write_attempts();
  report["read"] = read_attempts();
  report["new_user_namespace"] = try_new_user_namespace();
  if (fill_mb > 0) report["fill_tmp"] = fill_tmp(fill_mb);
  if (const nlohmann::json *leave = hutch::programs::field_or_null(input, "leave_tmp_file"); leave && *leave == true) {
    for (const char *path : {"/tmp/left-by-probe", "/work/left-by-probe"}) {
      int fd = ::open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd >= 0) ::close(fd);
    }
  }
  hutch::programs::write_result_or_exit(kProgram, report);
  return 0;
}
