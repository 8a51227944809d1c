// The parent side of starting a sandbox: prepare everything, fork, and hand back the pipes and the pidfd.
// The child's steps are in child.cc; this file is the one place that decides what they get.
#pragma once

#include <sys/types.h>

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"
#include "sandbox/child_plan.h"
#include "sandbox/exec_target.h"
#include "sandbox/input_files.h"

namespace hutch {

struct SandboxIdentity {
  uid_t uid;
  gid_t gid;
};

struct SpawnOptions {
  const ExecTarget *target = nullptr;
  std::vector<std::string> argv;
  std::vector<std::string> environment;  // "NAME=value"
  std::string stdin_content;             // the job's input
  std::span<const int> cgroup_procs_fds;
  // cgroup v2: the job cgroup's directory. spawn_sandbox clones the child straight into it (clone3 with
  // CLONE_INTO_CGROUP) and falls back to the child joining through cgroup_procs_fds where clone3 cannot.
  int cgroup_directory_fd = -1;
  std::vector<ChildRlimit> rlimits;
  std::optional<SandboxIdentity> identity;
  const sock_fprog *seccomp_program = nullptr;
  std::string working_directory = "/";
  bool new_namespaces = false;        // namespaces.h; needs root
  int network_namespace_fd = -1;      // with new_namespaces: the shared empty network namespace
  int root_skeleton_fd = -1;          // with new_namespaces: the skeleton mount namespace (mounts.h)
  std::string tmp_mount_options;      // with a skeleton: tmpfs options of /tmp and of the working directory
  std::string work_mount_options;
  int work_mount_fd = -1;             // with a skeleton: the job's working directory (job_directory.h)
  int package_mount_fd = -1;          // with a skeleton: a user function's package, shown at /function
  const InputFiles *input_files = nullptr;  // with a working directory: copied into its in/ by the job's init
};

// A started sandbox. The read ends are non-blocking and close-on-exec; the pid stays un-reaped until the
// owner waits for it, so the pidfd and the pid always name this process.
struct SpawnedSandbox {
  pid_t pid = -1;
  UniqueFd pidfd;
  UniqueFd stdout_read;
  UniqueFd stderr_read;
  // fd 3 of the function is a memfd, not a pipe: the function never blocks on it however much it writes
  // (its pages count against the job's memory), and the supervisor reads it once, after the job.
  UniqueFd result_file;
  // The child's copy closes at exec, so once the child has exited this holds EOF (exec succeeded) or a
  // ChildReport (set-up failed): read it then, no need to watch it.
  UniqueFd report_read;
};

// Reads the result file: its bytes, or nullopt when it holds more than `max_bytes`.
Result<std::optional<std::string>> read_result_file(int fd, size_t max_bytes);

// Forks the sandbox from hutchd itself (cgroup v2 and rlimit modes; the child joins its cgroup).
Result<SpawnedSandbox> spawn_sandbox(const SpawnOptions &options);

// Asks a slot's spawner (spawner.h) to fork the sandbox inside the slot's cgroup. The pipes are made here
// and their child ends sent along; the returned sandbox has no pid yet: the spawner's reply brings it,
// then adopt_spawned_pid() completes it.
Result<SpawnedSandbox> request_sandbox(int spawner_socket, const SpawnOptions &options);
Status adopt_spawned_pid(SpawnedSandbox &sandbox, pid_t pid);

// Reads the child's report pipe. nullopt: exec happened (EOF). A report: the stage that failed.
// EAGAIN when the child has not got that far yet.
Result<std::optional<ChildReport>> read_child_report(int report_fd);

// Everything on the report pipe once the sandbox's first process has exited: a set-up failure, and (with
// namespaces) the function's wait status as its init saw it.
struct ChildReports {
  std::optional<ChildReport> failure;
  std::optional<int> function_wait_status;
};
Result<ChildReports> read_child_reports(int report_fd);

// "could not start the sandbox: join the job's cgroup: Permission denied"
std::string describe_child_report(const ChildReport &report, const std::string &exec_path);

}  // namespace hutch
