#include "tests/support/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char **environ;

namespace hutch::test {
namespace {

using Clock = std::chrono::steady_clock;

// argv and envp are built before fork: the child only calls async-signal-safe functions.
std::vector<char *> to_c_strings(std::vector<std::string> &strings) {
  std::vector<char *> pointers;
  for (auto &text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

// This process's environment with `extra` added; an extra NAME=value replaces an inherited NAME.
std::vector<std::string> environment_with(const std::vector<std::string> &extra) {
  std::vector<std::string> environment;
  for (char **entry = environ; *entry != nullptr; ++entry) {
    std::string inherited = *entry;
    std::string name = inherited.substr(0, inherited.find('=') + 1);
    bool replaced = false;
    for (const auto &added : extra) replaced |= added.rfind(name, 0) == 0;
    if (!replaced) environment.push_back(std::move(inherited));
  }
  environment.insert(environment.end(), extra.begin(), extra.end());
  return environment;
}

std::string sigabbrev(int signal_number) {
  const char *name = ::sigabbrev_np(signal_number);
  return name != nullptr ? std::string("SIG") + name : "signal " + std::to_string(signal_number);
}

// The setup's cgroup.procs files opened and its id maps written out before fork, so the child only writes.
struct OpenedSetup {
  std::vector<int> cgroup_fds;
  bool opened = true;
  std::string uid_map, gid_map;  // "65534 65534 1": the identity's own ids, as an unprivileged map must be
  explicit OpenedSetup(const ChildSetup &setup) {
    for (const std::string &path : setup.join_cgroup_procs) {
      int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      opened &= fd >= 0;
      if (fd >= 0) cgroup_fds.push_back(fd);
    }
    if (setup.identity) {
      uid_map = std::to_string(setup.identity->first) + " " + std::to_string(setup.identity->first) + " 1";
      gid_map = std::to_string(setup.identity->second) + " " + std::to_string(setup.identity->second) + " 1";
    }
    opened &= !setup.forbid_user_namespaces || setup.identity.has_value();
  }
  ~OpenedSetup() {
    for (int fd : cgroup_fds) ::close(fd);
  }
};

bool write_text(const char *path, const std::string &text) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return written;
}

// In the child, async-signal-safe: the mounts and cgroups first (as root), then the identity, groups before
// ids, then the user namespace that allows no other (its owner has the capabilities to set that limit until
// exec).
void apply_setup(const ChildSetup &setup, const OpenedSetup &opened) {
  if (!opened.opened) ::_exit(126);
  if (!setup.cover_with_binds.empty()) {
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(126);
    for (const auto &[source, target] : setup.cover_with_binds) {
      if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) ::_exit(126);
    }
  }
  for (int fd : opened.cgroup_fds) {
    if (::write(fd, "0", 1) != 1) ::_exit(126);
  }
  if (!setup.identity) return;
  auto [uid, gid] = *setup.identity;
  if (::setgroups(setup.groups.size(), setup.groups.data()) != 0 || ::setresgid(gid, gid, gid) != 0 ||
      ::setresuid(uid, uid, uid) != 0)
    ::_exit(126);
  if (!setup.forbid_user_namespaces) return;
  // The uid change made the process undumpable, which hands its /proc/self files to root.
  if (::prctl(PR_SET_DUMPABLE, 1) != 0 || ::unshare(CLONE_NEWUSER) != 0 || !write_text("/proc/self/setgroups", "deny") ||
      !write_text("/proc/self/uid_map", opened.uid_map) || !write_text("/proc/self/gid_map", opened.gid_map) ||
      !write_text("/proc/sys/user/max_user_namespaces", "0"))
    ::_exit(126);
}

}  // namespace

TempDir::TempDir(const std::string &prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + ".XXXXXX")).string();
  if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;  // a leftover temp directory is not worth failing a test for
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

pid_t spawn_process(const std::vector<std::string> &argv, const std::vector<std::string> &extra_environment,
                    const std::string &output_path, bool die_with_parent, std::string *error,
                    const ChildSetup &setup) {
  std::vector<std::string> args = argv;
  std::vector<char *> c_args = to_c_strings(args);
  std::vector<std::string> environment = environment_with(extra_environment);
  std::vector<char *> c_environment = to_c_strings(environment);
  int output_fd = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (output_fd < 0) {
    *error = "open('" + output_path + "'): " + ::strerror(errno);
    return -1;
  }
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  OpenedSetup opened(setup);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    apply_setup(setup, opened);
    if (die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(127);
    }
    sigset_t empty;
    ::sigemptyset(&empty);
    ::sigprocmask(SIG_SETMASK, &empty, nullptr);
    ::setpgid(0, 0);  // its own group: a terminal's ^C reaches the test, which then stops it in order
    ::dup2(null_fd, 0);
    ::dup2(output_fd, 1);
    ::dup2(output_fd, 2);
    ::execve(c_args[0], c_args.data(), c_environment.data());
    ::_exit(127);
  }
  int fork_errno = errno;
  ::close(output_fd);
  if (null_fd >= 0) ::close(null_fd);
  if (pid < 0) *error = std::string("fork: ") + ::strerror(fork_errno);
  return pid;
}

std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t reaped = ::waitpid(pid, &status, WNOHANG);
    if (reaped == pid) return status;
    if (reaped < 0 && errno != EINTR) return -1;  // not our child (already reaped): nothing to wait for
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int stop_process(pid_t pid, int signal, std::chrono::milliseconds timeout) {
  ::kill(pid, signal);
  if (auto status = wait_for_exit(pid, timeout)) return *status;
  ::kill(pid, SIGKILL);
  return wait_for_exit(pid, std::chrono::seconds(10)).value_or(-1);
}

std::string describe_wait_status(int wait_status) {
  if (wait_status == -1) return "not reaped";
  if (WIFEXITED(wait_status)) return "exit code " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) return "signal " + sigabbrev(WTERMSIG(wait_status));
  return "wait status " + std::to_string(wait_status);
}

int CommandResult::exit_code() const {
  return wait_status != -1 && WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
}

CommandResult run_command(const std::vector<std::string> &argv, std::chrono::milliseconds timeout,
                          const std::vector<std::string> &extra_environment, const ChildSetup &setup) {
  CommandResult result;
  std::vector<std::string> args = argv;
  std::vector<char *> c_args = to_c_strings(args);
  std::vector<std::string> environment = environment_with(extra_environment);
  std::vector<char *> c_environment = to_c_strings(environment);

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return result;
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return result;
  }
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  OpenedSetup opened(setup);
  pid_t pid = ::fork();
  if (pid == 0) {
    apply_setup(setup, opened);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(null_fd, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::execve(c_args[0], c_args.data(), c_environment.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (null_fd >= 0) ::close(null_fd);
  if (pid < 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return result;
  }

  auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string *sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  while (open_count > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      result.timed_out = true;
      break;
    }
    int ready = ::poll(fds, 2, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[65536];
      ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
      if (got > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  for (auto &entry : fds)
    if (entry.fd >= 0) ::close(entry.fd);
  if (result.timed_out) {
    ::kill(pid, SIGKILL);
    wait_for_exit(pid, std::chrono::seconds(10));
    return result;
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (auto status = wait_for_exit(pid, std::max(left, std::chrono::milliseconds(100)))) {
    result.wait_status = *status;
  } else {
    result.timed_out = true;
    ::kill(pid, SIGKILL);
    wait_for_exit(pid, std::chrono::seconds(10));
  }
  return result;
}

std::string read_file_text(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string write_file_in(const TempDir &directory, const std::string &name, const std::string &content) {
  std::string path = directory.path() + "/" + name;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::vector<int> living_processes_of(const std::string &executable, const std::vector<int> &pids) {
  std::vector<int> found;
  DIR *proc = ::opendir("/proc");
  if (proc == nullptr) return found;
  while (dirent *entry = ::readdir(proc)) {
    int host_pid = std::atoi(entry->d_name);
    if (host_pid <= 0) continue;
    std::string base = std::string("/proc/") + entry->d_name;
    char target[4096];
    ssize_t length = ::readlink((base + "/exe").c_str(), target, sizeof target - 1);
    if (length <= 0 || std::string(target, static_cast<size_t>(length)) != executable) continue;
    std::istringstream status(read_file_text(base + "/status"));
    int innermost = host_pid;
    bool zombie = false;
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("State:", 0) == 0) zombie = line.find('Z') != std::string::npos;
      if (line.rfind("NSpid:", 0) == 0) {
        std::istringstream numbers(line.substr(6));
        for (int pid; numbers >> pid;) innermost = pid;
      }
    }
    if (!zombie && std::find(pids.begin(), pids.end(), innermost) != pids.end())
      found.push_back(host_pid);
  }
  ::closedir(proc);
  return found;
}

}  // namespace hutch::test
