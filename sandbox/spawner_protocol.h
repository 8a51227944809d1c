// hutchd <-> hutch-spawner, over a SOCK_SEQPACKET socketpair (one message = one request or reply).
//
// A request is a msgpack map (SpawnRequest) plus the sandbox's fds as SCM_RIGHTS, in the order of
// SpawnFd. The reply is a fixed-size SpawnReply. Everything the child needs is in the request, so the
// spawner keeps no state between jobs.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"
#include "sandbox/child_plan.h"

#define MSGPACK_NO_BOOST 1
#include <msgpack.hpp>

namespace hutch {

// The fds of a request, in this order; the next six only when the request says so (exec_by_fd,
// join_network_namespace, copy_root_skeleton, attach_work_mount, attach_package_mount, attach_input_files),
// each taking the next place, then `join_cgroups` fds.
enum SpawnFd : int { kSpawnStdin = 0, kSpawnStdout, kSpawnStderr, kSpawnResult, kSpawnReport, kSpawnFixedCount };
inline constexpr int kSpawnMaxFds = kSpawnFixedCount + 6 + kMaxCgroupProcsFds;

// hutch-spawner's argument when its stdin is hutchd's user namespace (user_namespace.h) to join at start.
// It then sends one SpawnReply before its first request: errno 0 once inside, else why it could not join.
inline constexpr char kSpawnerJoinUserNamespace[] = "--join-user-namespace-on-stdin";

struct SpawnRequest {
  std::vector<std::string> argv;
  std::vector<std::string> environment;
  std::string exec_path;
  bool exec_by_fd = false;              // the kSpawnExec fd is present and is an ELF binary
  std::vector<int64_t> rlimits;         // resource, soft, hard; resource, soft, hard; ...
  bool change_identity = false;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string seccomp_filter;           // sock_filter instructions, raw bytes
  std::string working_directory = "/";
  bool new_namespaces = false;
  bool join_network_namespace = false;  // an fd of the network namespace to join is present
  bool copy_root_skeleton = false;      // an fd of the root skeleton's mount namespace is present
  std::string tmp_mount_options;
  std::string work_mount_options;
  bool attach_work_mount = false;       // an fd of the job's working directory (job_directory.h) is present
  bool attach_package_mount = false;    // an fd of a user function's package tree is present
  bool attach_input_files = false;      // an fd of the job's packed input files (input_files.h) is present
  std::vector<std::string> input_file_names;
  std::vector<uint64_t> input_file_sizes;
  // cgroup.procs fds the child writes itself into: a job cgroup the spawner does not live in (cgroup v2
  // with a user namespace; a v1 slot's spawner is in its cgroup already, and its children are born there).
  uint32_t join_cgroups = 0;
  MSGPACK_DEFINE_MAP(argv, environment, exec_path, exec_by_fd, rlimits, change_identity, uid, gid, seccomp_filter,
                     working_directory, new_namespaces, join_network_namespace, copy_root_skeleton,
                     tmp_mount_options, work_mount_options, attach_work_mount, attach_package_mount, join_cgroups,
                     attach_input_files, input_file_names, input_file_sizes);
};

struct SpawnReply {
  int64_t pid;          // > 0: the sandbox, a child of hutchd (CLONE_PARENT); <= 0: failed
  int32_t errno_value;  // when failed
  int32_t reserved;
};

inline constexpr size_t kMaxSpawnMessageBytes = 128 * 1024;

Status send_spawn_request(int socket, const SpawnRequest &request, std::span<const int> fds);
// Blocking receive, for the spawner. An empty result with no error: the other end closed.
Result<std::optional<std::pair<SpawnRequest, std::vector<UniqueFd>>>> receive_spawn_request(int socket);
Status send_spawn_reply(int socket, const SpawnReply &reply);
// Non-blocking receive, for hutchd: EAGAIN as an error when nothing is there yet; ECONNRESET at EOF.
Result<SpawnReply> receive_spawn_reply(int socket);

}  // namespace hutch
