// Everything the child needs between fork and exec, prepared by the parent as plain data.
//
// The child of a multi-threaded event-loop process may only call async-signal-safe functions: no malloc, no
// C++ containers, no logging. So this struct holds only integers and pointers into memory the parent owns
// and keeps alive until the child has exec'd (fork copies it; nothing is freed in between).
#pragma once

#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>

namespace hutch {

// The step of the child's set-up that failed, reported to the parent with errno over a close-on-exec pipe.
// One stage per system call that can fail, so that the record's sentence names the step.
enum class ChildStage : int {
  kNone = 0,  // no step failed (what the steps of namespaces.cc and mounts.cc return when all worked)
  kParentGone,
  kSession,
  kSignals,
  kCgroup,
  kRlimits,
  kFds,
  kWorkingDirectory,
  kNoNewPrivs,
  kIdentity,
  kSeccomp,
  kExec,
  kInit,
  // Not a failure: the sandbox's init reports the function's wait status (errno_value) when it ended.
  kFunctionEnded,
  kInputFiles,
  // The job's namespaces (namespaces.cc enter_sandbox_namespaces, mounts.cc enter_job_root), in order.
  kJoinRootSkeleton,
  kUnshareMounts,
  kPrivateMounts,
  kMountProc,
  kMountTmp,
  kAttachPackage,
  kAttachWorkingDirectory,
  kMountWorkingDirectory,
  kHostname,
  kJoinNetwork,
};

struct ChildReport {
  ChildStage stage;
  int errno_value;
};

inline constexpr int kMaxCgroupProcsFds = 8;
inline constexpr int kMaxRlimits = 8;

struct ChildRlimit {
  int resource;
  struct rlimit limit;
};

struct ChildPlan {
  int report_fd = -1;   // write end of the report pipe (close-on-exec: EOF tells the parent exec worked)
  // A pidfd of the supervisor: readable once it has died. getppid() cannot tell inside a new PID
  // namespace (it reads 0 there), and the child must never run on unsupervised.
  int supervisor_pidfd = -1;
  pid_t parent_pid = 0;  // the check when no pidfd is given

  // Namespaces (namespaces.h). When `new_namespaces` is set, the child was cloned into fresh PID, mount,
  // IPC, UTS and cgroup namespaces: it becomes the namespace's init, and the function its child.
  bool new_namespaces = false;
  int network_namespace_fd = -1;  // the shared empty network namespace to join, or -1
  int root_skeleton_fd = -1;      // mounts.h: the skeleton mount namespace to copy, or -1
  const char *tmp_mount_options = nullptr;   // tmpfs options of /tmp
  const char *work_mount_options = nullptr;  // tmpfs options of the working directory
  // A working directory hutchd made (job_directory.h) to attach at /work instead of a fresh tmpfs, or -1.
  int work_mount_fd = -1;
  // A user function's package (mounts.h clone_read_only_tree) to attach at /function, or -1.
  int package_mount_fd = -1;
  // The job's input files (input_files.h): a memfd holding them back to back, which the job's init copies
  // into in/ of work_mount_fd, so that their pages are the job's memory; -1 when none.
  int input_files_fd = -1;
  int input_file_count = 0;
  const char *const *input_file_names = nullptr;
  const uint64_t *input_file_sizes = nullptr;

  // Become fds 0, 1, 2 and 3 of the function.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  int result_fd = -1;

  // cgroup.procs (v2) or cgroup.procs of each v1 hierarchy: the child writes "0" to join itself, so the
  // migration runs in the child, off the supervisor's event loop.
  int cgroup_procs_fds[kMaxCgroupProcsFds] = {};
  int cgroup_procs_count = 0;

  ChildRlimit rlimits[kMaxRlimits] = {};
  int rlimit_count = 0;

  const char *working_directory = "/";

  bool change_identity = false;  // as root, or inside hutchd's user namespace
  uid_t uid = 0;
  gid_t gid = 0;
  // Cloned inside hutchd's user namespace (user_namespace.h), where setgroups is denied: the supplementary
  // groups stay hutchd's. The uid there is the one mapped uid all along (never root), so no uid change
  // clears the capabilities: child.cc clears them explicitly.
  bool in_user_namespace = false;

  const sock_fprog *seccomp_program = nullptr;

  // exec_fd >= 0: execveat(exec_fd, "", AT_EMPTY_PATH), for ELF binaries opened by the parent (no path walk
  // as the unprivileged uid). exec_fd < 0: execve(exec_path), for scripts whose interpreter needs a path.
  int exec_fd = -1;
  const char *exec_path = nullptr;
  char *const *argv = nullptr;
  char *const *envp = nullptr;
};

// Runs in the forked child; never returns. Only async-signal-safe calls.
[[noreturn]] void child_run(const ChildPlan &plan);

// "join the cgroup", for the parent's error sentence.
const char *child_stage_description(ChildStage stage);

}  // namespace hutch
