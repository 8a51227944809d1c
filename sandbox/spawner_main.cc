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
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "sandbox/child_plan.h"
#include "sandbox/namespaces.h"
#include "sandbox/spawner_protocol.h"

namespace {

constexpr int kSocketFd = 3;

void protect_from_oom_killer() {
  int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;  // not root: the kernel may pick us, and hutchd restarts a dead spawner
  ssize_t ignored = ::write(fd, "-1000", 5);
  (void)ignored;
  ::close(fd);
}

hutch::SpawnReply spawn_one(const hutch::SpawnRequest &request, std::vector<hutch::UniqueFd> &fds, pid_t hutchd,
                             int hutchd_pidfd) {
  bool has_exec_fd = request.exec_by_fd;
  size_t next = hutch::kSpawnFixedCount;
  int exec_fd = has_exec_fd && fds.size() > next ? fds[next++].get() : -1;
  int network_namespace_fd = request.join_network_namespace && fds.size() > next ? fds[next++].get() : -1;
  int root_skeleton_fd = request.copy_root_skeleton && fds.size() > next ? fds[next++].get() : -1;
  int work_mount_fd = request.attach_work_mount && fds.size() > next ? fds[next++].get() : -1;
  int package_mount_fd = request.attach_package_mount && fds.size() > next ? fds[next++].get() : -1;
  size_t expected = next;
  if (fds.size() != expected || request.rlimits.size() % 3 != 0 ||
      request.rlimits.size() / 3 > hutch::kMaxRlimits || request.seccomp_filter.size() % sizeof(sock_filter) != 0)
    return {0, EINVAL, 0};

  std::vector<char *> argv, envp;
  for (const std::string &arg : request.argv) argv.push_back(const_cast<char *>(arg.c_str()));
  argv.push_back(nullptr);
  for (const std::string &variable : request.environment) envp.push_back(const_cast<char *>(variable.c_str()));
  envp.push_back(nullptr);
  sock_fprog seccomp{static_cast<unsigned short>(request.seccomp_filter.size() / sizeof(sock_filter)),
                     reinterpret_cast<sock_filter *>(const_cast<char *>(request.seccomp_filter.data()))};

  hutch::ChildPlan plan;
  plan.parent_pid = hutchd;  // CLONE_PARENT: the sandbox's parent is hutchd, and it must die with hutchd
  plan.supervisor_pidfd = hutchd_pidfd;
  plan.new_namespaces = request.new_namespaces;
  plan.network_namespace_fd = network_namespace_fd;
  plan.root_skeleton_fd = root_skeleton_fd;
  plan.tmp_mount_options = request.tmp_mount_options.c_str();
  plan.work_mount_options = request.work_mount_options.c_str();
  plan.work_mount_fd = work_mount_fd;
  plan.package_mount_fd = package_mount_fd;
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
  plan.seccomp_program = request.seccomp_filter.empty() ? nullptr : &seccomp;
  plan.exec_fd = exec_fd;
  plan.exec_path = request.exec_path.c_str();
  plan.argv = argv.data();
  plan.envp = envp.data();

  // Raw clone without a new stack behaves like fork, with CLONE_PARENT added; the child runs only the
  // async-signal-safe child_run, so glibc's fork bookkeeping is not needed.
  unsigned long flags = CLONE_PARENT | SIGCHLD | (request.new_namespaces ? hutch::kSandboxNamespaceFlags : 0);
  long pid = ::syscall(SYS_clone, flags, 0, nullptr, nullptr, 0);
  if (pid == 0) hutch::child_run(plan);
  if (pid < 0) return {0, errno, 0};
  return {pid, 0, 0};
}

}  // namespace

int main() {
  pid_t hutchd = ::getppid();
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != hutchd) return 1;
  ::signal(SIGPIPE, SIG_IGN);
  protect_from_oom_killer();
  // Sandboxes check it to know hutchd still lives (getppid() says nothing inside a new PID namespace).
  int hutchd_pidfd = static_cast<int>(::syscall(SYS_pidfd_open, hutchd, 0));
  if (hutchd_pidfd < 0) return 1;
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
    hutch::SpawnReply reply = spawn_one(request, fds, hutchd, hutchd_pidfd);
    fds.clear();  // the sandbox has its copies; ours would hold its pipes open
    if (!hutch::send_spawn_reply(kSocketFd, reply)) return 1;
  }
}
