#include "sandbox/spawner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "sandbox/blocked_signals.h"
#include "sandbox/child_plan.h"
#include "sandbox/spawn.h"
#include "sandbox/spawner_protocol.h"

namespace hutch {

namespace {

constexpr int kUserNamespaceReplyTimeoutMs = 5000;

// The spawner's one message before its first request when asked to join a user namespace: errno 0 once it
// is inside, else why not.
Status wait_until_inside_user_namespace(int socket) {
  struct pollfd readable = {socket, POLLIN, 0};
  int ready = ::poll(&readable, 1, kUserNamespaceReplyTimeoutMs);
  if (ready < 0) return fail(errno_error("poll(hutch-spawner)"));
  if (ready == 0) return fail(make_error("hutch-spawner did not say within 5 s whether it joined the user namespace"));
  auto reply = receive_spawn_reply(socket);
  if (!reply) return fail(reply.error().context("hutch-spawner, joining the user namespace"));
  if (reply->errno_value != 0) return fail(errno_error(reply->errno_value, "hutch-spawner: join the user namespace"));
  return {};
}

}  // namespace

Result<Spawner> Spawner::start(const ExecTarget &program, std::span<const int> cgroup_procs_fds,
                               int user_namespace_fd) {
  if (cgroup_procs_fds.size() > kMaxCgroupProcsFds) return fail(make_error("spawner: too many cgroup fds"));
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return fail(errno_error("socketpair"));
  UniqueFd ours(pair[0]), theirs(pair[1]);
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return fail(errno_error("pipe2"));
  UniqueFd report_read(report[0]), report_write(report[1]);
  UniqueFd null_input(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_input) return fail(errno_error("open('/dev/null')"));

  // Joined after exec, not before: a process that execs inside a user namespace as a uid other than root
  // there loses its capabilities, and the spawner needs them to clone namespaces.
  bool join = user_namespace_fd >= 0;
  char *argv[] = {const_cast<char *>("hutch-spawner"), join ? const_cast<char *>(kSpawnerJoinUserNamespace) : nullptr,
                  nullptr};
  char *envp[] = {nullptr};
  ChildPlan plan;
  plan.report_fd = report_write.get();
  plan.parent_pid = ::getpid();
  plan.stdin_fd = join ? user_namespace_fd : null_input.get();
  plan.stdout_fd = STDERR_FILENO;  // its rare complaints belong in hutchd's log
  plan.stderr_fd = STDERR_FILENO;
  plan.result_fd = theirs.get();    // fd 3: the socket
  for (int fd : cgroup_procs_fds) plan.cgroup_procs_fds[plan.cgroup_procs_count++] = fd;
  plan.exec_fd = program.fd();
  plan.exec_path = program.path().c_str();
  plan.argv = argv;
  plan.envp = envp;

  // hutchd restarts a dead spawner from its event loop, where libuv's signal handlers are installed: none
  // may run in the child before child_run has reset them.
  TRY_ASSIGN(BlockedSignals blocked_signals, BlockedSignals::block_all());
  pid_t pid = ::fork();
  if (pid == 0) child_run(plan);
  int fork_errno = errno;
  blocked_signals.restore();
  if (pid < 0) return fail(errno_error(fork_errno, "fork"));
  report_write.reset();
  theirs.reset();

  Spawner spawner;
  spawner.socket_ = std::move(ours);
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) {
    Error error = errno_error("pidfd_open(hutch-spawner)");
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);  // a few ms at most: it was killed before it could get stuck anywhere
    return fail(error);
  }
  spawner.process_ = ChildProcess(pid, std::move(pidfd));
  // Blocking read of the report: EOF once the spawner has exec'd.
  int flags = ::fcntl(report_read.get(), F_GETFL);
  ::fcntl(report_read.get(), F_SETFL, flags & ~O_NONBLOCK);
  auto outcome = read_child_report(report_read.get());
  if (!outcome) return fail(outcome.error().context("start hutch-spawner"));
  if (outcome->has_value()) return fail(make_error(describe_child_report(**outcome, program.path())));
  if (join) TRY_STATUS(wait_until_inside_user_namespace(spawner.socket()));
  return spawner;
}

Spawner::~Spawner() {
  socket_.reset();  // the spawner reads EOF and exits on its own; process_ kills it in case it does not
}

}  // namespace hutch
