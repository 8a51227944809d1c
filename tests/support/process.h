// Child processes for tests: start one with its output in a file, wait for it with a bound, run a command to
// completion and capture what it printed. Every wait is bounded so a hung program fails a test instead of
// hanging the suite.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hutch::test {

// A temporary directory removed with everything in it when this goes away.
class TempDir {
 public:
  explicit TempDir(const std::string &prefix);
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::string &path() const { return path_; }

 private:
  std::string path_;
};

// What a child does before exec, for tests that start a program as another user (the test must be root):
// join these cgroups (cgroup.procs paths), then drop to `identity` (uid, gid) with no supplementary groups
// unless `groups` names some. With `forbid_user_namespaces` (needs `identity`) it then enters a user
// namespace of its own, mapping only that uid and gid, whose user.max_user_namespaces is 0: the program
// can make no user namespace, as on a host with that sysctl. With `cover_with_binds` (source, target
// pairs) it first gets a mount namespace of its own, private, with each source bound over its target: what
// a container runtime does to the files of /proc it hides. A failed step ends the child with exit 126.
struct ChildSetup {
  std::vector<std::pair<std::string, std::string>> cover_with_binds;
  std::vector<std::string> join_cgroup_procs;
  std::optional<std::pair<uid_t, gid_t>> identity;
  std::vector<gid_t> groups;
  bool forbid_user_namespaces = false;
};

// Forks and execs argv with stdin from /dev/null, stdout+stderr appended to output_path and this process's
// environment plus `extra_environment` ("NAME=value", later entries win). With
// die_with_parent the child gets SIGTERM if the test process dies first, so a crashed test leaves no
// daemon behind. Returns -1 and sets *error when fork fails; an exec failure shows as exit code 127.
pid_t spawn_process(const std::vector<std::string> &argv, const std::vector<std::string> &extra_environment,
                    const std::string &output_path, bool die_with_parent, std::string *error,
                    const ChildSetup &setup = {});

// Waits up to `timeout` for pid to exit and reaps it. nullopt: still running.
std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds timeout);

// Sends `signal`, waits up to `timeout`, then SIGKILLs and reaps. Returns the wait status.
int stop_process(pid_t pid, int signal, std::chrono::milliseconds timeout);

// "exit code 3", "signal SIGTERM": for assertion messages.
std::string describe_wait_status(int wait_status);

struct CommandResult {
  int wait_status = -1;    // -1 when it could not be started or was killed for running too long
  bool timed_out = false;
  std::string out;
  std::string err;
  int exit_code() const;   // -1 unless it exited
};

// Runs argv to completion (SIGKILL after `timeout`) with optional extra environment ("NAME=value").
CommandResult run_command(const std::vector<std::string> &argv, std::chrono::milliseconds timeout,
                          const std::vector<std::string> &extra_environment = {}, const ChildSetup &setup = {});

std::string read_file_text(const std::string &path);
// Writes `content` to <directory>/<name> (making the folders between) and returns the path.
std::string write_file_in(const TempDir &directory, const std::string &name, const std::string &content);

// Host pids of the live (non-zombie) processes running `executable` whose pid in their innermost pid
// namespace is one of `pids`: what a function printed as its children's pids, found whether or not hutchd
// gives jobs a pid namespace.
std::vector<int> living_processes_of(const std::string &executable, const std::vector<int> &pids);

}  // namespace hutch::test
