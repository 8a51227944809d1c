#include "sandbox/spawn.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "common/file_io.h"
#include "sandbox/blocked_signals.h"
#include "sandbox/namespaces.h"
#include "sandbox/spawner_protocol.h"

namespace hutch {
namespace {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> make_pipe(bool nonblocking_read) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail(errno_error("pipe2"));
  Pipe pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  if (nonblocking_read && ::fcntl(pipe.read.get(), F_SETFL, O_NONBLOCK) != 0) return fail(errno_error("fcntl(O_NONBLOCK)"));
  return pipe;
}

// The input goes in a memfd rather than a pipe: it is written whole before fork, so a large input can never
// block the supervisor, and the function reads it at its own pace.
Result<UniqueFd> make_stdin(const std::string &content) {
  UniqueFd memfd(::memfd_create("hutch-input", MFD_CLOEXEC));
  if (!memfd) return fail(errno_error("memfd_create"));
  TRY_STATUS(write_all(memfd.get(), content.data(), content.size()));
  if (::lseek(memfd.get(), 0, SEEK_SET) != 0) return fail(errno_error("lseek(input)"));
  return memfd;
}

std::vector<char *> to_c_array(const std::vector<std::string> &strings) {
  std::vector<char *> array;
  array.reserve(strings.size() + 1);
  for (const std::string &s : strings) array.push_back(const_cast<char *>(s.c_str()));
  array.push_back(nullptr);
  return array;
}

// Both ends of every pipe a sandbox gets: the parent keeps the read ends, the child gets the rest.
struct SandboxPipes {
  UniqueFd input;
  UniqueFd result;  // fd 3: a memory file, read once the job is over
  Pipe out, err, report;
};

// A function may reopen its output through /dev/stdout or /dev/stderr (/proc/self/fd/1 and 2), and the kernel
// checks that open against the pipe's owner and mode (0600): a pipe made by root would be EACCES to the job's
// uid, so `echo x > /dev/stderr` would fail. The pipes are the job's own, so they belong to its uid.
Status give_to_job(const Pipe &pipe, const std::optional<SandboxIdentity> &identity) {
  // Without root the job's uid is hutchd's own (mapped in hutchd's user namespace), which made the pipes.
  if (!identity || ::geteuid() != 0) return {};
  if (::fchown(pipe.write.get(), identity->uid, identity->gid) != 0)
    return fail(errno_error("fchown(output pipe, " + std::to_string(identity->uid) + ")"));
  return {};
}

Result<SandboxPipes> make_sandbox_pipes(const SpawnOptions &options) {
  SandboxPipes pipes;
  TRY_ASSIGN(pipes.input, make_stdin(options.stdin_content));
  TRY_ASSIGN(pipes.out, make_pipe(true));
  TRY_ASSIGN(pipes.err, make_pipe(true));
  TRY_STATUS(give_to_job(pipes.out, options.identity));
  TRY_STATUS(give_to_job(pipes.err, options.identity));
  pipes.result.reset(::memfd_create("hutch-result", MFD_CLOEXEC));
  if (!pipes.result) return fail(errno_error("memfd_create(result)"));
  TRY_ASSIGN(pipes.report, make_pipe(true));
  return pipes;
}

SpawnedSandbox parent_ends(SandboxPipes &pipes) {
  SpawnedSandbox sandbox;
  sandbox.stdout_read = std::move(pipes.out.read);
  sandbox.stderr_read = std::move(pipes.err.read);
  // The child gets its own description of the same file (dup2), so its writes land where we read.
  sandbox.result_file.reset(::fcntl(pipes.result.get(), F_DUPFD_CLOEXEC, 0));
  sandbox.report_read = std::move(pipes.report.read);
  return sandbox;  // the child ends close with `pipes`, so EOF comes once the child's copies are gone
}

// This process's own pidfd, opened once: the child polls it to know the supervisor still lives.
int own_pidfd() {
  static const int fd = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
  return fd;
}

// Clones the sandbox's first process. Given a cgroup directory (v2), clone3 with CLONE_INTO_CGROUP starts it
// there: no migration after the fact, and the cgroup namespace it gets is rooted at the job's cgroup, so
// /proc/self/cgroup reads 0::/ inside (a child cloned in hutchd's leaf and moved afterwards would see
// 0::/../hutch-<consumer>/job-<id>). Where clone3 or the flag is missing (kernels before 5.7, or a seccomp
// filter on hutchd answering clone3 with ENOSYS, as container runtimes' default profiles do), the raw clone
// runs and the child joins the cgroup itself before anything else (child.cc). Returns like clone: 0 in the
// child, which then runs child_run(plan) with the plan as it was at the successful call.
pid_t clone_sandbox(ChildPlan &plan, unsigned long namespace_flags, int cgroup_directory_fd) {
  if (cgroup_directory_fd >= 0) {
    clone_args args{};
    args.flags = namespace_flags | CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<uint64_t>(cgroup_directory_fd);
    int join_count = plan.cgroup_procs_count;
    plan.cgroup_procs_count = 0;  // born in the cgroup: nothing to join
    auto pid = static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
    if (pid >= 0 || (errno != ENOSYS && errno != E2BIG && errno != EINVAL)) return pid;
    plan.cgroup_procs_count = join_count;
  }
  return static_cast<pid_t>(::syscall(SYS_clone, SIGCHLD | namespace_flags, 0, nullptr, nullptr, 0));
}

Status check_limits(const SpawnOptions &options) {
  if (options.target == nullptr) return fail(make_error("spawn: no executable"));
  if (options.cgroup_procs_fds.size() > kMaxCgroupProcsFds) return fail(make_error("spawn: too many cgroup fds"));
  if (options.rlimits.size() > kMaxRlimits) return fail(make_error("spawn: too many rlimits"));
  return {};
}

}  // namespace

Status adopt_spawned_pid(SpawnedSandbox &sandbox, pid_t pid) {
  sandbox.pid = pid;
  // The pid cannot be reused before hutchd reaps it (it is hutchd's child), so this pidfd names it.
  // Raw syscall: glibc 2.36's <sys/pidfd.h> lacks extern "C" and does not link from C++.
  sandbox.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!sandbox.pidfd) {
    Error error = errno_error("pidfd_open");
    ::kill(pid, SIGKILL);
    return fail(error);
  }
  return {};
}

Result<SpawnedSandbox> spawn_sandbox(const SpawnOptions &options) {
  TRY_STATUS(check_limits(options));
  TRY_ASSIGN(SandboxPipes pipes, make_sandbox_pipes(options));

  // Everything the child reads lives in this frame until fork has copied it.
  std::vector<char *> argv = to_c_array(options.argv);
  std::vector<char *> envp = to_c_array(options.environment);
  std::vector<char *> input_file_names;
  ChildPlan plan;
  plan.report_fd = pipes.report.write.get();
  plan.parent_pid = ::getpid();
  plan.supervisor_pidfd = own_pidfd();
  plan.new_namespaces = options.new_namespaces;
  plan.network_namespace_fd = options.network_namespace_fd;
  plan.root_skeleton_fd = options.root_skeleton_fd;
  plan.tmp_mount_options = options.tmp_mount_options.c_str();
  plan.work_mount_options = options.work_mount_options.c_str();
  plan.work_mount_fd = options.work_mount_fd;
  plan.package_mount_fd = options.package_mount_fd;
  if (options.input_files != nullptr && options.input_files->count() > 0) {
    input_file_names = to_c_array(options.input_files->names());
    plan.input_files_fd = options.input_files->fd();
    plan.input_file_count = static_cast<int>(options.input_files->count());
    plan.input_file_names = input_file_names.data();
    plan.input_file_sizes = options.input_files->sizes().data();
  }
  plan.stdin_fd = pipes.input.get();
  plan.stdout_fd = pipes.out.write.get();
  plan.stderr_fd = pipes.err.write.get();
  plan.result_fd = pipes.result.get();
  for (int fd : options.cgroup_procs_fds) plan.cgroup_procs_fds[plan.cgroup_procs_count++] = fd;
  for (const ChildRlimit &limit : options.rlimits) plan.rlimits[plan.rlimit_count++] = limit;
  plan.working_directory = options.working_directory.c_str();
  if (options.identity) {
    plan.change_identity = true;
    plan.uid = options.identity->uid;
    plan.gid = options.identity->gid;
  }
  plan.seccomp_program = options.seccomp_program;
  plan.exec_fd = options.target->fd();
  plan.exec_path = options.target->path().c_str();
  plan.argv = argv.data();
  plan.envp = envp.data();

  // No handler of hutchd's may run in the child: every signal stays blocked until child_run has reset them.
  TRY_ASSIGN(BlockedSignals blocked_signals, BlockedSignals::block_all());
  // Raw clone, like fork plus the namespace flags; the child runs only the async-signal-safe child_run.
  pid_t pid = clone_sandbox(plan, options.new_namespaces ? kSandboxNamespaceFlags : 0, options.cgroup_directory_fd);
  if (pid == 0) child_run(plan);
  int clone_errno = errno;
  blocked_signals.restore();
  if (pid < 0) return fail(errno_error(clone_errno, "clone"));

  SpawnedSandbox sandbox = parent_ends(pipes);
  TRY_STATUS(adopt_spawned_pid(sandbox, pid));
  return sandbox;
}

Result<SpawnedSandbox> request_sandbox(int spawner_socket, const SpawnOptions &options) {
  TRY_STATUS(check_limits(options));
  TRY_ASSIGN(SandboxPipes pipes, make_sandbox_pipes(options));
  SpawnRequest request;
  request.argv = options.argv;
  request.environment = options.environment;
  request.exec_path = options.target->path();
  request.exec_by_fd = options.target->fd() >= 0;
  for (const ChildRlimit &limit : options.rlimits) {
    request.rlimits.insert(request.rlimits.end(), {limit.resource, static_cast<int64_t>(limit.limit.rlim_cur),
                                                   static_cast<int64_t>(limit.limit.rlim_max)});
  }
  if (options.identity) {
    request.change_identity = true;
    request.uid = options.identity->uid;
    request.gid = options.identity->gid;
  }
  if (options.seccomp_program != nullptr) {
    request.seccomp_filter.assign(reinterpret_cast<const char *>(options.seccomp_program->filter),
                                  options.seccomp_program->len * sizeof(sock_filter));
  }
  request.working_directory = options.working_directory;
  request.new_namespaces = options.new_namespaces;
  request.join_network_namespace = options.new_namespaces && options.network_namespace_fd >= 0;
  request.copy_root_skeleton = options.new_namespaces && options.root_skeleton_fd >= 0;
  request.tmp_mount_options = options.tmp_mount_options;
  request.work_mount_options = options.work_mount_options;
  request.attach_work_mount = request.copy_root_skeleton && options.work_mount_fd >= 0;
  request.attach_package_mount = request.copy_root_skeleton && options.package_mount_fd >= 0;
  request.attach_input_files = request.attach_work_mount && options.input_files != nullptr &&
                               options.input_files->count() > 0;
  if (request.attach_input_files) {
    request.input_file_names = options.input_files->names();
    request.input_file_sizes = options.input_files->sizes();
  }
  request.join_cgroups = static_cast<uint32_t>(options.cgroup_procs_fds.size());
  std::vector<int> fds = {pipes.input.get(), pipes.out.write.get(), pipes.err.write.get(), pipes.result.get(),
                          pipes.report.write.get()};
  if (request.exec_by_fd) fds.push_back(options.target->fd());
  if (request.join_network_namespace) fds.push_back(options.network_namespace_fd);
  if (request.copy_root_skeleton) fds.push_back(options.root_skeleton_fd);
  if (request.attach_work_mount) fds.push_back(options.work_mount_fd);
  if (request.attach_package_mount) fds.push_back(options.package_mount_fd);
  if (request.attach_input_files) fds.push_back(options.input_files->fd());
  fds.insert(fds.end(), options.cgroup_procs_fds.begin(), options.cgroup_procs_fds.end());
  TRY_STATUS(send_spawn_request(spawner_socket, request, fds));
  return parent_ends(pipes);
}

Result<std::optional<std::string>> read_result_file(int fd, size_t max_bytes) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) return fail(errno_error("fstat(result)"));
  if (static_cast<uint64_t>(info.st_size) > max_bytes) return std::optional<std::string>{};
  std::string content(static_cast<size_t>(info.st_size), '\0');
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::pread(fd, content.data() + done, content.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno_error("read(result)"));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  content.resize(done);
  return std::optional<std::string>{std::move(content)};
}

Result<ChildReports> read_child_reports(int report_fd) {
  ChildReports reports;
  for (int i = 0; i < 4; ++i) {  // at most a failure and an end report; bounded against a confused writer
    auto report = read_child_report(report_fd);
    if (!report && report.error().errno_value == EAGAIN) break;
    if (!report) return fail(report.error());
    if (!report->has_value()) break;
    if ((*report)->stage == ChildStage::kFunctionEnded) {
      reports.function_wait_status = (*report)->errno_value;
    } else if (!reports.failure) {
      reports.failure = **report;
    }
  }
  return reports;
}

Result<std::optional<ChildReport>> read_child_report(int report_fd) {
  ChildReport report{};
  for (;;) {
    ssize_t n = ::read(report_fd, &report, sizeof report);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno_error("read(child report)"));
    if (n == 0) return std::optional<ChildReport>{};
    if (n != sizeof report) return fail(make_error("the sandbox's set-up report was cut short"));
    return std::optional<ChildReport>{report};
  }
}

std::string describe_child_report(const ChildReport &report, const std::string &exec_path) {
  std::string what = child_stage_description(report.stage);
  if (report.stage == ChildStage::kExec) what += " '" + exec_path + "'";
  return "could not start the sandbox: " + what + ": " + std::strerror(report.errno_value);
}

}  // namespace hutch
