#include "supervisor/execution.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>

#include "queue/delivery_scripts.h"
#include "queue/function_definition.h"
#include "queue/job_files.h"
#include "sandbox/mounts.h"
#include "sandbox/rlimits.h"
#include "supervisor/log.h"

namespace hutch {
namespace {

// After the function's first process exits, what it left behind is killed; these bound how long the
// supervisor waits for the cgroup to empty and the pipes to close before recording anyway.
constexpr uint64_t kSweepIntervalMs = 2;
constexpr int kMaxSweepRounds = 1000;  // ~2 s

}  // namespace

Execution::Execution(ExecutionContext &context, Job job, const FunctionSpec &function, const ExecTarget &target,
                     int slot, std::function<void(Execution &)> on_finished, std::shared_ptr<const void> keep_alive)
    : context_(context),
      job_(std::move(job)),
      function_(function),
      target_(target),
      slot_(slot),
      on_finished_(std::move(on_finished)),
      timeout_timer_(context.loop),
      sweep_timer_(context.loop),
      retire_timer_(context.loop),
      log_budget_(context.config->log_cap_bytes) {
  keep_alive_ = std::move(keep_alive);
  outcome_.timeout_seconds = job_.timeout_seconds;
  outcome_.memory_limit_bytes = job_.memory_bytes;
  outcome_.grace_seconds = context.config->grace_seconds;
}

Execution::~Execution() {
  // Only reached with a live process if the supervisor itself is going down hard: kill everything, and let
  // the owners reap and remove what they can without waiting (ChildProcess, JobCgroup): nothing here blocks.
  if (process_.running()) kill_everything();
}

uid_t Execution::sandbox_uid() const {
  if (!context_.change_identity) return ::geteuid();
  // Inside hutchd's user namespace there is one uid to be: the one hutchd is mapped to.
  uint32_t slot = context_.user_namespace ? 0 : static_cast<uint32_t>(slot_);
  return static_cast<uid_t>(context_.config->uid_base + slot);
}

int Execution::root_skeleton_fd() const {
  auto slot = static_cast<size_t>(slot_);
  return slot < context_.root_skeleton_fds.size() ? context_.root_skeleton_fds[slot] : -1;
}

// The function's uid as the kernel's audit log names it: hutchd's own in a user namespace.
uid_t Execution::host_uid() const { return context_.user_namespace ? ::geteuid() : sandbox_uid(); }

std::vector<std::string> Execution::environment() const {
  char timeout[32];
  snprintf(timeout, sizeof timeout, "%g", job_.timeout_seconds);
  std::vector<std::string> variables{
      "PATH=/usr/local/bin:/usr/bin:/bin",
      "LANG=C.UTF-8",
      "HOME=/tmp",
      "HUTCH_RESULT_FD=3",
      "HUTCH_FUNCTION=" + (function_.name_in_package.empty() ? job_.function : function_.name_in_package),
      "HUTCH_EXECUTION_ID=" + job_.id,
      std::string("HUTCH_TIMEOUT=") + timeout,
  };
  if (!function_.package_name.empty()) variables.push_back("HUTCH_PACKAGE=" + function_.package_name);
  if (!function_.package_directory.empty()) variables.push_back(std::string("HUTCH_FUNCTION_DIR=") + kFunctionPackageDirectory);
  if (directory_) {
    variables.push_back(std::string("HUTCH_IN=") + kJobInputDirectory);
    variables.push_back(std::string("HUTCH_OUT=") + kJobOutputDirectory);
  }
  return variables;
}

FileCaps Execution::file_caps() const { return {context_.config->file_cap_bytes, context_.config->job_files_cap_bytes}; }

void Execution::start() {
  if (job_.files.empty()) {
    launch();
    return;
  }
  if (!context_.job_directories) {
    refuse("files: this supervisor cannot hand files to a sandbox: it runs without root, so it cannot give "
           "the job a working directory of its own; run hutchd as root, or send the job without files");
    return;
  }
  context_.writer->send(fetch_files_command(job_, file_caps()),
                        [this](const redisReply *reply) { on_files_fetched(reply); });
}

void Execution::on_files_fetched(const redisReply *reply) {
  auto fetched = parse_fetch_reply(reply, job_, file_caps());
  if (auto *refusal = std::get_if<FetchRefusal>(&fetched)) {
    if (refusal->job_at_fault) {
      refuse(refusal->sentence);
    } else {
      log_error("job " + job_.id + ": " + refusal->sentence);
      fail_to_start(refusal->sentence);
    }
    return;
  }
  if (outcome_.stopped_by_shutdown || lost_) {
    fail_to_start("hutchd shut down while the job's input files were being read; it never started");
    return;
  }
  // Straight from the reply into the memfd the job's init copies from: hutchd holds no copy of its own.
  if (auto packed = pack_input_files(std::get<FetchedFiles>(fetched)); !packed) {
    log_error("job " + job_.id + ": input files: " + packed.error().message);
    fail_to_start("could not prepare the job's input files: " + packed.error().message);
    return;
  }
  launch();
}

Status Execution::pack_input_files(const FetchedFiles &fetched) {
  TRY_ASSIGN(InputFiles files, InputFiles::create());
  for (size_t i = 0; i < fetched.contents.size() && i < job_.files.size(); ++i)
    TRY_STATUS(files.add(job_.files[i].name, fetched.contents[i]));
  input_files_ = std::move(files);
  return {};
}

void Execution::refuse(const std::string &sentence) {
  log_info("job " + job_.id + " rejected: " + sentence);
  finished_ = true;
  std::string id = job_.id;
  FinalFacts facts = rejection_facts(context_.config->consumer, sentence);
  facts.retention_ms = context_.config->retention_ms;
  context_.writer->send(final_write(job_, std::move(facts)), record_reply_handler(id, "the rejection"));
  on_finished_(*this);
}

// The working directory: big enough for the inputs, the outputs a job may hand back, and as much scratch
// space as /tmp. tmpfs takes memory only as it fills, and that memory counts against the job's limit (the
// job's init writes the inputs, so they count too).
Status Execution::prepare_directory() {
  uint64_t input_bytes = input_files_ ? input_files_->total_bytes() : 0;
  uint64_t size = context_.config->tmp_size_bytes + input_bytes + context_.config->job_files_cap_bytes;
  TRY_ASSIGN(JobDirectory directory, JobDirectory::create(size, sandbox_uid()));
  directory_ = std::move(directory);
  return {};
}

void Execution::launch() {
  // Each slot has a uid of its own as root; in a user namespace every job shares one, and forgetting it
  // here could drop the record of another job running now.
  if (!context_.user_namespace) context_.seccomp_audit->forget(host_uid());
  started_at_ms_ = now_unix_ms();
  started_ns_ = uv_hrtime();
  StartFacts start_facts{context_.config->consumer, context_.limits_word, started_at_ms_, context_.isolation,
                         context_.config->max_attempts, context_.config->retention_ms};
  // A refused running write means another supervisor owns the job now: this attempt must not go on.
  Fence fence{context_.config->consumer, job_.attempt};
  auto on_running_reply = [id = job_.id, fence, writer = context_.writer,
                           lost = context_.on_lost](const redisReply *reply) {
    auto outcome = parse_write_reply(reply);
    if (!outcome) {
      log_error("job " + id + ": writing `running` failed: " + outcome.error().message);
    } else if (*outcome == WriteOutcome::kStale || *outcome == WriteOutcome::kFinal) {
      log_warning("job " + id + ": `running` " + std::string(describe_write_outcome(*outcome)));
      // Already final: the final write with nothing to write acknowledges the entry if it is still ours.
      if (*outcome == WriteOutcome::kFinal) writer->send(final_write_command(id, fence, "", {}));
      if (lost) lost(id);
    }
  };
  context_.writer->send(running_write(job_, start_facts), on_running_reply);

  RlimitOptions rlimit_options;
  if (context_.cgroups != nullptr) {
    CgroupLimits limits{job_.memory_bytes, job_.cpu_cores, context_.config->pids_per_job};
    auto cgroup = context_.cgroups->open_job(slot_, "job-" + job_.id, limits);
    if (!cgroup) {
      log_error("job " + job_.id + ": " + cgroup.error().message);
      fail_to_start("could not prepare the job's cgroup: " + cgroup.error().message);
      return;
    }
    cgroup_ = std::move(*cgroup);
  } else {
    // No cgroup: coarse per-process stand-ins, as hutchd warned at start-up.
    rlimit_options.fallback = true;
    rlimit_options.memory_bytes = job_.memory_bytes;
    rlimit_options.processes = context_.config->pids_per_job;
    rlimit_options.cpu_seconds = static_cast<uint64_t>(std::ceil(job_.timeout_seconds * job_.cpu_cores)) + 1;
  }

  if (!function_.package_directory.empty()) {
    auto tree = clone_read_only_tree(function_.package_directory_fd, function_.package_directory);
    if (!tree || root_skeleton_fd() < 0) {
      std::string why = tree ? "hutchd runs without root, so it cannot show the package to the sandbox"
                             : tree.error().message;
      fail_to_start("could not show the function's package to the sandbox: " + why);
      return;
    }
    package_mount_ = std::move(*tree);
  }
  if (context_.job_directories) {
    if (auto prepared = prepare_directory(); !prepared) {
      log_error("job " + job_.id + ": working directory: " + prepared.error().message);
      fail_to_start("could not prepare the job's working directory: " + prepared.error().message);
      return;
    }
  }

  SpawnOptions options;
  options.target = &target_;
  options.argv = function_.argv;
  options.environment = environment();
  options.stdin_content = job_.input;
  // A v1 slot's spawner lives in the slot's cgroup and its sandboxes are born there; others join it.
  if (cgroup_ && context_.cgroups->slot_procs_fds(slot_).empty()) {
    options.cgroup_procs_fds = cgroup_->procs_fds();
    options.cgroup_directory_fd = cgroup_->directory_fd();  // v2, forked by hutchd: born in the job's cgroup
  }
  options.rlimits = sandbox_rlimits(rlimit_options);
  if (context_.change_identity) options.identity = SandboxIdentity{sandbox_uid(), static_cast<gid_t>(sandbox_uid())};
  options.seccomp_program = context_.seccomp->program_for(function_.name);
  options.new_namespaces = context_.new_namespaces;
  if (static_cast<size_t>(slot_) < context_.network_namespace_fds.size())
    options.network_namespace_fd = context_.network_namespace_fds[static_cast<size_t>(slot_)];
  if (root_skeleton_fd() >= 0) {
    options.root_skeleton_fd = root_skeleton_fd();
    options.tmp_mount_options = tmpfs_options(context_.config->tmp_size_bytes, "1777");
    options.work_mount_options = tmpfs_options(context_.config->tmp_size_bytes, "0700", static_cast<int>(sandbox_uid()));
    options.working_directory = kJobWorkingDirectory;
  }
  if (directory_) {
    options.work_mount_fd = directory_->fd();
    if (input_files_) options.input_files = &*input_files_;
  }
  options.package_mount_fd = package_mount_.get();

  if (context_.spawners != nullptr) {
    auto requested = (*context_.spawners)[static_cast<size_t>(slot_)]->request(
        options, [this](Result<SpawnReply> reply) { on_spawned(std::move(reply)); });
    input_files_.reset();  // the request carries its own reference; the init drops the last one
    if (!requested) {
      log_error("job " + job_.id + ": " + requested.error().message);
      fail_to_start("could not start the sandbox: " + requested.error().message);
      return;
    }
    pending_ = std::move(*requested);
    return;
  }
  auto sandbox = spawn_sandbox(options);
  input_files_.reset();
  if (!sandbox) {
    log_error("job " + job_.id + ": " + sandbox.error().message);
    fail_to_start("could not start the sandbox: " + sandbox.error().message);
    return;
  }
  watch(*sandbox);
}

void Execution::watch(SpawnedSandbox &sandbox) {
  process_ = ChildProcess(sandbox.pid, std::move(sandbox.pidfd));
  process_group_ = sandbox.pid;
  report_fd_ = std::move(sandbox.report_read);
  result_file_ = std::move(sandbox.result_file);
  if (auto watched = start_watches(sandbox); !watched) {
    // Without its watches the job would wait forever for an exit, an EOF or a timeout nobody sees.
    fail_after_spawn("could not watch the sandbox: " + watched.error().message);
  }
}

Status Execution::start_watches(SpawnedSandbox &sandbox) {
  TRY_ASSIGN(exit_watch_, UvPoll::start(context_.loop, process_.pidfd(), "the sandbox's pidfd",
                                        [this] { on_process_exit(); }));
  TRY_ASSIGN(stdout_reader_,
             UvPipeReader::start(
                 context_.loop, std::move(sandbox.stdout_read), "the sandbox's stdout",
                 [this](std::string_view bytes) { on_output(false, bytes); }, [this] { maybe_finish(); }));
  TRY_ASSIGN(stderr_reader_,
             UvPipeReader::start(
                 context_.loop, std::move(sandbox.stderr_read), "the sandbox's stderr",
                 [this](std::string_view bytes) { on_output(true, bytes); }, [this] { maybe_finish(); }));
  auto timeout_ms = static_cast<uint64_t>(std::llround(job_.timeout_seconds * 1000));
  auto armed = timeout_timer_.start(timeout_ms, [this] { on_timeout(); });
  if (!armed) return fail(armed.error().context("arm the job's timeout"));
  return {};
}

// The sandbox runs but cannot be watched: kill it and record why. Nothing of it is waited for here; retire()
// reaps the process and releases the cgroup without blocking.
void Execution::fail_after_spawn(const std::string &sentence) {
  log_error("job " + job_.id + ": " + sentence + "; killed it");
  kill_everything();
  exit_watch_.reset();
  stdout_reader_.reset();
  stderr_reader_.reset();
  ended_ns_ = uv_hrtime();
  outcome_.setup_error = sentence;
  exited_ = cgroup_empty_ = true;
  finish();
}

void Execution::on_spawned(Result<SpawnReply> reply) {
  if (!reply) {
    fail_to_start("could not start the sandbox: the slot's spawner failed: " + reply.error().message);
    return;
  }
  if (reply->pid <= 0) {
    fail_to_start(std::string("could not start the sandbox: fork: ") + std::strerror(reply->errno_value));
    return;
  }
  if (auto adopted = adopt_spawned_pid(pending_, static_cast<pid_t>(reply->pid)); !adopted) {
    fail_to_start("could not start the sandbox: " + adopted.error().message);
    return;
  }
  watch(pending_);
  // The grace ran out (or the job was lost) while it was being forked.
  if (!finished_ && (outcome_.stopped_by_shutdown || lost_)) kill_everything();
}

void Execution::fail_to_start(const std::string &sentence) {
  outcome_.setup_error = sentence;
  exited_ = cgroup_empty_ = true;
  finish();
}

void Execution::read_report() {
  auto reports = read_child_reports(report_fd_.get());
  if (!reports) {
    log_warning("job " + job_.id + ": " + reports.error().message);
    return;
  }
  if (reports->failure) outcome_.setup_error = describe_child_report(*reports->failure, target_.path());
  // With namespaces the process hutchd reaped is the job's init; how the function ended is what it reported.
  if (reports->function_wait_status) wait_status_ = *reports->function_wait_status;
}

void Execution::on_process_exit() {
  int status = 0;
  auto reaped = process_.try_reap(status, rusage_);
  if (reaped && !*reaped) return;  // spurious wake-up
  exit_watch_->stop();
  ended_ns_ = uv_hrtime();
  exited_ = true;
  if (!reaped) {
    log_error("job " + job_.id + ": " + reaped.error().message);
  } else {
    wait_status_ = status;
  }
  timeout_timer_.stop();
  read_report();
  // The function's first process is gone; anything it left behind dies with it.
  sweep_leftovers();
}

void Execution::on_timeout() {
  if (exited_) return;
  outcome_.timed_out = true;
  kill_everything();
}

void Execution::stop_for_shutdown() {
  if (exited_ || finished_) return;
  outcome_.stopped_by_shutdown = true;
  kill_everything();
}

void Execution::stop_lost() {
  if (finished_) return;
  lost_ = true;
  if (!exited_) kill_everything();
}

void Execution::kill_everything() {
  if (cgroup_) {
    auto killed = cgroup_->kill_all();
    if (!killed) log_warning("job " + job_.id + ": kill the cgroup: " + killed.error().message);
  }
  // The process group catches what a cgroup would (rlimit mode) and costs nothing when it is empty.
  if (process_group_ > 0) ::kill(-process_group_, SIGKILL);
  process_.kill();
}

void Execution::sweep_leftovers() {
  if (!cgroup_) {
    if (process_group_ > 0) ::kill(-process_group_, SIGKILL);
    cgroup_empty_ = true;
    maybe_finish();
    return;
  }
  auto empty = cgroup_->kill_all();
  if (empty && *empty) {
    cgroup_empty_ = true;
    maybe_finish();
    return;
  }
  if (++sweep_rounds_ > kMaxSweepRounds) {
    record_without_waiting("processes are still in its cgroup after 2 s of SIGKILL");
    return;
  }
  if (auto armed = sweep_timer_.start(kSweepIntervalMs, [this] { sweep_leftovers(); }); !armed)
    record_without_waiting("cannot wait for its cgroup to empty (" + armed.error().message + ")");
}

// What holds the pipes may be what will not die: recording does not wait for their EOF either. retire()
// goes on killing and releasing the cgroup, bounded, after the record is written.
void Execution::record_without_waiting(const std::string &why) {
  log_error("job " + job_.id + ": " + why + "; recording it anyway");
  cgroup_empty_ = true;
  stdout_reader_.reset();
  stderr_reader_.reset();
  finish();
}

void Execution::on_output(bool is_stderr, std::string_view bytes) {
  std::vector<std::string> lines;
  (is_stderr ? stderr_lines_ : stdout_lines_).feed(bytes, lines);
  if (lines.empty()) return;
  std::vector<LogLine> admitted;
  for (std::string &line : lines) log_budget_.admit(is_stderr, std::move(line), admitted);
  context_.shipper->append(job_.id, std::move(admitted));
}

void Execution::maybe_finish() {
  if (finished_ || !exited_ || !cgroup_empty_) return;
  if (!stdout_reader_->at_eof() || !stderr_reader_->at_eof()) {
    // Pipes close once every holder is dead; the sweep killed them all, so EOF is on its way.
    return;
  }
  finish();
}

}  // namespace hutch
