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
//   with {"leave_tmp_file": true}: creates /tmp/left-by-probe and /work/left-by-probe and leaves them,
//   cgroup: the lines of /proc/self/cgroup,
//   with {"ipc_key": K}: ipc: {"shm_host", "msg_host"}: what shmget/msgget of key K (made by the test on the
//     host) answer, "found" or the errno name; "shm_own": a segment of key K+1 made here and left behind,
//   etc: passwd_names, passwd_uids and group_names of /etc/passwd and /etc/group, resolv_conf_bytes, and
//     localtime: the first four bytes of /etc/localtime ("TZif") or the errno name,
//   dev_links: {path: "same" when /dev/stdin, /dev/stdout, /dev/stderr, /dev/fd/3 are the job's fds 0-3},
//     stdin_via_dev: the input read again through /dev/stdin, dev_write: {path: "ok" or the errno name} for
//     a line written through /dev/stdout and /dev/stderr ("through /dev/stdout", "through /dev/stderr"),
//   securebits: prctl(PR_GET_SECUREBITS), securebits_unlock: the errno name of setting them to 0,
//   rlimits: {"fsize", "core", "nofile"}: [soft, hard], raise: {"fsize", "core"}: the errno name of raising
//     the hard limit (or "ok"),
//   with {"fsize_test_kb": N}: fsize_test: {"written_kb", "error"} after lowering the file size limit to N KiB
//     and writing twice that into /tmp with SIGXFSZ ignored.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <linux/securebits.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/shm.h>
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

nlohmann::json cgroup_lines() {
  nlohmann::json lines = nlohmann::json::array();
  std::ifstream cgroup("/proc/self/cgroup");
  for (std::string line; std::getline(cgroup, line);) lines.push_back(line);
  return lines;
}

// The test made a segment and a queue of `key` on the host; in the job's own IPC namespace neither exists
// (ENOENT; a host object would answer "found" or, being root's with mode 0600, EACCES). The segment of key+1
// made here dies with the namespace; the test checks that the host never sees it.
nlohmann::json ipc_report(long long key) {
  auto found_or_errno = [](int id) { return id >= 0 ? std::string("found") : errno_name(errno); };
  nlohmann::json report;
  report["shm_host"] = found_or_errno(::shmget(static_cast<key_t>(key), 0, 0));
  report["msg_host"] = found_or_errno(::msgget(static_cast<key_t>(key), 0));
  int own = ::shmget(static_cast<key_t>(key + 1), 4096, IPC_CREAT | IPC_EXCL | 0600);
  report["shm_own"] = own >= 0 ? std::string("created") : errno_name(errno);
  return report;
}

// The first colon-separated field of each line: the names in /etc/passwd or /etc/group.
std::vector<std::string> field_of_lines(const char *path, int field) {
  std::vector<std::string> values;
  std::ifstream file(path);
  for (std::string line; std::getline(file, line);) {
    size_t start = 0;
    for (int i = 0; i < field && start != std::string::npos; ++i) {
      start = line.find(':', start);
      if (start != std::string::npos) ++start;
    }
    if (start == std::string::npos) continue;
    values.push_back(line.substr(start, line.find(':', start) - start));
  }
  return values;
}

nlohmann::json etc_report() {
  nlohmann::json report;
  report["passwd_names"] = field_of_lines("/etc/passwd", 0);
  nlohmann::json uids = nlohmann::json::array();
  for (const std::string &uid : field_of_lines("/etc/passwd", 2)) uids.push_back(std::atoll(uid.c_str()));
  report["passwd_uids"] = uids;
  report["group_names"] = field_of_lines("/etc/group", 0);
  struct stat info {};
  report["resolv_conf_bytes"] = ::stat("/etc/resolv.conf", &info) == 0 ? static_cast<long long>(info.st_size) : -1;
  int fd = ::open("/etc/localtime", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    report["localtime"] = errno_name(errno);
  } else {
    char magic[4] = {};
    ssize_t n = ::read(fd, magic, sizeof magic);
    report["localtime"] = n == 4 ? std::string(magic, 4) : "short";
    ::close(fd);
  }
  return report;
}

// The /dev links work only if they resolve, through the job's own /proc, to the descriptors it was given.
nlohmann::json dev_links_report() {
  nlohmann::json report = nlohmann::json::object();
  const std::pair<const char *, int> links[] = {{"/dev/stdin", 0}, {"/dev/stdout", 1}, {"/dev/stderr", 2}, {"/dev/fd/3", 3}};
  for (const auto &[path, fd] : links) {
    struct stat by_path {}, by_fd {};
    if (::stat(path, &by_path) != 0) {
      report[path] = errno_name(errno);
    } else if (::fstat(fd, &by_fd) != 0) {
      report[path] = "fd " + std::to_string(fd) + ": " + errno_name(errno);
    } else {
      report[path] = by_path.st_dev == by_fd.st_dev && by_path.st_ino == by_fd.st_ino ? "same" : "another file";
    }
  }
  return report;
}

// The input is a memfd: opening /dev/stdin opens it anew, from its start.
std::string read_through_dev_stdin() {
  int fd = ::open("/dev/stdin", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_name(errno);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<size_t>(n));
  ::close(fd);
  return text;
}

std::string write_through_dev(const char *path) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno_name(errno);
  std::string line = std::string("through ") + path + "\n";
  std::string result = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) ? "ok" : errno_name(errno);
  ::close(fd);
  return result;
}

nlohmann::json limit_of(int resource) {
  rlimit limit{};
  if (::getrlimit(static_cast<__rlimit_resource>(resource), &limit) != 0) return errno_name(errno);
  auto value = [](rlim_t v) { return v == RLIM_INFINITY ? nlohmann::json("unlimited") : nlohmann::json(v); };
  return {value(limit.rlim_cur), value(limit.rlim_max)};
}

std::string try_raise_hard_limit(int resource, rlim_t value) {
  rlimit limit{value, value};
  return ::setrlimit(static_cast<__rlimit_resource>(resource), &limit) == 0 ? "ok" : errno_name(errno);
}

nlohmann::json rlimits_report() {
  nlohmann::json report;
  report["fsize"] = limit_of(RLIMIT_FSIZE);
  report["core"] = limit_of(RLIMIT_CORE);
  report["nofile"] = limit_of(RLIMIT_NOFILE);
  return report;
}

// The file size limit is the kernel's, on every filesystem: lowered to `kilobytes`, a write past it fails
// with EFBIG (SIGXFSZ ignored, or it would kill the probe).
nlohmann::json write_past_file_size_limit(long long kilobytes) {
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit limit{};
  ::getrlimit(RLIMIT_FSIZE, &limit);
  limit.rlim_cur = static_cast<rlim_t>(kilobytes) << 10;
  if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return {{"written_kb", 0}, {"error", "setrlimit: " + errno_name(errno)}};
  int fd = ::open("/tmp/fsize", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return {{"written_kb", 0}, {"error", errno_name(errno)}};
  std::vector<char> block(1024, 'x');
  long long written = 0;
  std::string error = "none";
  for (; written < 2 * kilobytes; ++written) {
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) {
      error = errno_name(errno);
      break;
    }
  }
  ::close(fd);
  ::unlink("/tmp/fsize");
  return {{"written_kb", written}, {"error", error}};
}

}  // namespace

int main() {
  constexpr const char *kProgram = "probe";
  auto input = hutch::programs::input_or_exit(kProgram);
  long long port = hutch::programs::integer_param(kProgram, input, "connect_port", 0, 0, 65535);
  long long fill_mb = hutch::programs::integer_param(kProgram, input, "fill_tmp_mb", 0, 0, 1024);
  long long ipc_key = hutch::programs::integer_param(kProgram, input, "ipc_key", 0, 0, 0x7ffffffe);
  long long fsize_test_kb = hutch::programs::integer_param(kProgram, input, "fsize_test_kb", 0, 0, 16384);

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
  report["cgroup"] = cgroup_lines();
  if (ipc_key > 0) report["ipc"] = ipc_report(ipc_key);
  report["etc"] = etc_report();
  report["dev_links"] = dev_links_report();
  report["stdin_via_dev"] = read_through_dev_stdin();
  report["dev_write"] = {{"/dev/stdout", write_through_dev("/dev/stdout")},
                         {"/dev/stderr", write_through_dev("/dev/stderr")}};
  report["securebits"] = ::prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
  report["securebits_unlock"] = ::prctl(PR_SET_SECUREBITS, 0, 0, 0, 0) == 0 ? "ok" : errno_name(errno);
  report["rlimits"] = rlimits_report();
  report["raise"] = {{"fsize", try_raise_hard_limit(RLIMIT_FSIZE, rlim_t{2} << 30)},
                     {"core", try_raise_hard_limit(RLIMIT_CORE, rlim_t{1} << 20)}};
  if (fsize_test_kb > 0) report["fsize_test"] = write_past_file_size_limit(fsize_test_kb);
  if (const nlohmann::json *leave = hutch::programs::field_or_null(input, "leave_tmp_file"); leave && *leave == true) {
    for (const char *path : {"/tmp/left-by-probe", "/work/left-by-probe"}) {
      int fd = ::open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd >= 0) ::close(fd);
    }
  }
  hutch::programs::write_result_or_exit(kProgram, report);
  return 0;
}
