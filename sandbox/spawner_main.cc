// hutch-spawner: one per concurrency slot, living in that slot's cgroup (cgroup v1).
//
// Why: joining a cgroup v1 hierarchy costs a full RCU grace period (measured ~9 ms on this VM kind when
// attaches are not back to back) because the migration takes cgroup_threadgroup_rwsem for writing. A
// process forked by a member of the cgroup is born in it, which costs nothing. So the spawner joins once,
// at start, and forks every sandbox of its slot with CLONE_PARENT: the sandbox is hutchd's child (hutchd
// reaps it, owns its pidfd, receives SIGCHLD) but was never migrated.
//
// It is a separate, small program (exec'd, single-threaded) so it may allocate before forking, unlike a
// fork of the event-loop daemon. It is never the OOM killer's choice and dies with hutchd.
//
// When hutchd is not root, its spawners (then one per slot whatever the cgroups) also join hutchd's user
// namespace at start (user_namespace.h): cloning PID, IPC, UTS and cgroup namespaces takes capabilities the
// spawner has only in there. hutchd itself stays outside: joining would change the daemon's credentials for
// good, and only a single-threaded process may join a user namespace.
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "sandbox/blocked_signals.h"
#include "sandbox/child_plan.h"
#include "sandbox/namespaces.h"
#include "sandbox/spawner_protocol.h"
#include "sandbox/user_namespace.h"

namespace {

constexpr int kSocketFd = 3;

void protect_from_oom_killer() {
  int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;  // not root: the kernel may pick us, and hutchd restarts a dead spawner
  ssize_t ignored = ::write(fd, "-1000", 5);
  (void)ignored;
  ::close(fd);
}

// What holds for every request: the hutchd the sandboxes die with, and the user namespace they are born in.
struct SpawnerState {
  pid_t hutchd = 0;
  int hutchd_pidfd = -1;
  bool in_user_namespace = false;  // joined hutchd's user namespace at start (kSpawnerJoinUserNamespace)
};

hutch::SpawnReply spawn_one(const hutch::SpawnRequest &request, std::vector<hutch::UniqueFd> &fds,
                             const SpawnerState &state) {
  bool has_exec_fd = request.exec_by_fd;
  size_t next = hutch::kSpawnFixedCount;
  int exec_fd = has_exec_fd && fds.size() > next ? fds[next++].get() : -1;
  int network_namespace_fd = request.join_network_namespace && fds.size() > next ? fds[next++].get() : -1;
  int root_skeleton_fd = request.copy_root_skeleton && fds.size() > next ? fds[next++].get() : -1;
  int work_mount_fd = request.attach_work_mount && fds.size() > next ? fds[next++].get() : -1;
  int package_mount_fd = request.attach_package_mount && fds.size() > next ? fds[next++].get() : -1;
  int input_files_fd = request.attach_input_files && fds.size() > next ? fds[next++].get() : -1;
  size_t first_cgroup = next;
  size_t expected = next + request.join_cgroups;
  if (fds.size() != expected || request.join_cgroups > hutch::kMaxCgroupProcsFds || request.rlimits.size() % 3 != 0 ||
      request.rlimits.size() / 3 > hutch::kMaxRlimits || request.seccomp_filter.size() % sizeof(sock_filter) != 0 ||
      request.input_file_names.size() != request.input_file_sizes.size())
    return {0, EINVAL, 0};

  std::vector<char *> argv, envp;
  for (const std::string &arg : request.argv) argv.push_back(const_cast<char *>(arg.c_str()));
  argv.push_back(nullptr);
  for (const std::string &variable : request.environment) envp.push_back(const_cast<char *>(variable.c_str()));
  envp.push_back(nullptr);
  std::vector<const char *> input_file_names;
  for (const std::string &name : request.input_file_names) input_file_names.push_back(name.c_str());
  sock_fprog seccomp{static_cast<unsigned short>(request.seccomp_filter.size() / sizeof(sock_filter)),
                     reinterpret_cast<sock_filter *>(const_cast<char *>(request.seccomp_filter.data()))};

  hutch::ChildPlan plan;
  plan.parent_pid = state.hutchd;  // CLONE_PARENT: the sandbox's parent is hutchd, and it must die with hutchd
  plan.supervisor_pidfd = state.hutchd_pidfd;
  for (size_t i = first_cgroup; i < fds.size(); ++i) plan.cgroup_procs_fds[plan.cgroup_procs_count++] = fds[i].get();
  plan.new_namespaces = request.new_namespaces;
  plan.network_namespace_fd = network_namespace_fd;
  plan.root_skeleton_fd = root_skeleton_fd;
  plan.tmp_mount_options = request.tmp_mount_options.c_str();
  plan.work_mount_options = request.work_mount_options.c_str();
  plan.work_mount_fd = work_mount_fd;
  plan.package_mount_fd = package_mount_fd;
  if (input_files_fd >= 0) {
    plan.input_files_fd = input_files_fd;
    plan.input_file_count = static_cast<int>(input_file_names.size());
    plan.input_file_names = input_file_names.data();
    plan.input_file_sizes = request.input_file_sizes.data();
  }
  plan.stdin_fd = fds[hutch::kSpawnStdin].get();
  plan.stdout_fd = fds[hutch::kSpawnStdout].get();
  plan.stderr_fd = fds[hutch::kSpawnStderr].get();
  plan.result_fd = fds[hutch::kSpawnResult].get();
  plan.report_fd = fds[hutch::kSpawnReport].get();
  for (size_t i = 0; i < request.rlimits.size(); i += 3) {
    plan.rlimits[plan.rlimit_count++] = {static_cast<int>(request.rlimits[i]),
                                         {static_cast<rlim_t>(request.rlimits[i + 1]),
                                          static_cast<rlim_t>(request.rlimits[i + 2])}};
  }
  plan.working_directory = request.working_directory.c_str();
  plan.change_identity = request.change_identity;
  plan.uid = request.uid;
  plan.gid = request.gid;
  plan.in_user_namespace = state.in_user_namespace;
  plan.seccomp_program = request.seccomp_filter.empty() ? nullptr : &seccomp;
  plan.exec_fd = exec_fd;
  plan.exec_path = request.exec_path.c_str();
  plan.argv = argv.data();
  plan.envp = envp.data();

  // Raw clone without a new stack behaves like fork, with CLONE_PARENT added; the child runs only the
  // async-signal-safe child_run, so glibc's fork bookkeeping is not needed.
  // Blocked around the clone as in hutchd's own spawn: the child unblocks once it has reset every handler.
  auto blocked_signals = hutch::BlockedSignals::block_all();
  if (!blocked_signals) return {0, blocked_signals.error().errno_value, 0};
  unsigned long flags = CLONE_PARENT | SIGCHLD | (request.new_namespaces ? hutch::kSandboxNamespaceFlags : 0);
  long pid = ::syscall(SYS_clone, flags, 0, nullptr, nullptr, 0);
  if (pid == 0) hutch::child_run(plan);
  int clone_errno = errno;
  blocked_signals->restore();
  if (pid < 0) return {0, clone_errno, 0};
  return {pid, 0, 0};
}

// Not root: fd 0 is hutchd's user namespace. Inside it the spawner holds the capabilities that cloning
// namespaces needs, and every sandbox it clones is born there. hutchd waits for the answer.
bool join_user_namespace(SpawnerState &state) {
  int error = hutch::enter_user_namespace(STDIN_FILENO);
  if (!hutch::send_spawn_reply(kSocketFd, {0, error, 0}) || error != 0) return false;
  int null_input = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_input < 0 || ::dup3(null_input, STDIN_FILENO, O_CLOEXEC) != STDIN_FILENO) return false;
  ::close(null_input);
  state.in_user_namespace = true;
  return true;
}

}  // namespace

int main(int argc, char **argv) {
  SpawnerState state;
  state.hutchd = ::getppid();
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != state.hutchd) return 1;
  ::signal(SIGPIPE, SIG_IGN);
  protect_from_oom_killer();
  if (argc > 1 && std::strcmp(argv[1], hutch::kSpawnerJoinUserNamespace) == 0 && !join_user_namespace(state)) return 1;
  // Sandboxes check it to know hutchd still lives (getppid() says nothing inside a new PID namespace).
  state.hutchd_pidfd = static_cast<int>(::syscall(SYS_pidfd_open, state.hutchd, 0));
  if (state.hutchd_pidfd < 0) return 1;
  for (;;) {
    auto received = hutch::receive_spawn_request(kSocketFd);
    if (!received) {
      std::fprintf(stderr, "hutch-spawner: %s\n", received.error().message.c_str());
      if (!hutch::send_spawn_reply(kSocketFd, {0, received.error().errno_value ? received.error().errno_value : EINVAL, 0}))
        return 1;
      continue;
    }
    if (!received->has_value()) return 0;  // hutchd closed the socket: the slot is gone
    auto &[request, fds] = **received;
    hutch::SpawnReply reply = spawn_one(request, fds, state);
    fds.clear();  // the sandbox has its copies; ours would hold its pipes open
    if (!hutch::send_spawn_reply(kSocketFd, reply)) return 1;
  }
}
