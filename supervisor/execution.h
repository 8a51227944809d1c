// One job's life, as a small state machine on the event loop:
//
//   start: with `files`, read them from Redis first (one EVAL); a missing or oversized key rejects the job
//   launch: write `running`, open the job's cgroup, make its working directory, spawn the sandbox (whose
//           init copies the input files in, inside the job's cgroup), watch it
//   running: stdout/stderr -> log lines -> LogShipper; fd 3 -> result; timer -> timeout kill
//   exited (pidfd readable): reap, kill what the function left behind in its cgroup
//   drained: exit seen + set-up report read + all pipes at EOF + cgroup empty -> classify, collect the
//            output files if it succeeded, write them and the final record (with the XACK) in one
//            fenced script (queue/delivery_scripts.h); this and what follows are execution_finish.cc
//   retired: the process reaped and the cgroup given back (retried on a timer while it still holds dying
//            processes, bounded), then tell the owner, who frees the slot
//
// Two ends write no record: a job another supervisor took over (stop_lost: its lease was lost, the newer
// attempt records it) and one killed at shutdown (handed back to the queue to run again).
//
// Nothing here blocks: every wait is a libuv handle.
#pragma once

#include <sys/resource.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "catalog/registry.h"
#include "queue/job.h"
#include "queue/job_files.h"
#include "queue/log_lines.h"
#include "queue/outcome.h"
#include "queue/record.h"
#include "queue/redis_connection.h"
#include "sandbox/cgroup.h"
#include "sandbox/child_process.h"
#include "sandbox/exec_target.h"
#include "sandbox/job_directory.h"
#include "sandbox/spawn.h"
#include "supervisor/config.h"
#include "supervisor/function_seccomp.h"
#include "supervisor/log_shipper.h"
#include "supervisor/seccomp_audit.h"
#include "supervisor/slot_spawner.h"
#include "supervisor/uv_handles.h"

namespace hutch {

// What every execution shares, owned by the Supervisor.
struct ExecutionContext {
  uv_loop_t *loop = nullptr;
  const SupervisorConfig *config = nullptr;
  CgroupManager *cgroups = nullptr;  // null: rlimits only
  std::string limits_word;           // record field `limits`
  std::string isolation;             // record field `isolation`
  const FunctionSeccomp *seccomp = nullptr;  // each function's compiled program
  RedisConnection *writer = nullptr;
  // Fenced writes report "stale" or "final" when another attempt owns the job; this tells its owner.
  std::function<void(const std::string &id)> on_lost;
  LogShipper *shipper = nullptr;
  SeccompAudit *seccomp_audit = nullptr;
  bool change_identity = false;      // root: each slot gets its own uid; user namespace: config uid_base
  bool user_namespace = false;       // not root: jobs run inside hutchd's user namespace (spawners clone them)
  bool new_namespaces = false;       // PID, mount, IPC, UTS, cgroup namespaces per job
  bool job_directories = false;      // running as root: /work is made by hutchd, with files in and out
  std::vector<int> network_namespace_fds;  // an empty network namespace per slot (none: the host's)
  std::vector<int> root_skeleton_fds;  // each slot's root skeleton mount namespace (none: the host's mounts)
  // cgroup v1: each slot's spawner forks its sandboxes inside the slot's cgroup. Null: hutchd forks.
  std::vector<std::unique_ptr<SlotSpawner>> *spawners = nullptr;
};

// Logs what a fenced final write (`what`: "the final record", "the rejection") of job `id` did, when it did
// not simply write.
RedisConnection::ReplyCallback record_reply_handler(const std::string &id, const std::string &what);

class Execution {
 public:
  static constexpr size_t kMaxOutputBytes = 1 << 20;

  // `keep_alive` owns `function` and `target` when they are not the supervisor's (a user function).
  Execution(ExecutionContext &context, Job job, const FunctionSpec &function, const ExecTarget &target, int slot,
            std::function<void(Execution &)> on_finished, std::shared_ptr<const void> keep_alive = {});
  ~Execution();
  Execution(const Execution &) = delete;
  Execution &operator=(const Execution &) = delete;

  void start();
  // The shutdown grace ran out: kill the job and hand it back to the queue (no record).
  void stop_for_shutdown();
  // The job is no longer this supervisor's (its lease was taken): kill it; no record, no hand-back.
  void stop_lost();

  const std::string &id() const { return job_.id; }
  int attempt() const { return job_.attempt; }
  // Claimed again by this same supervisor (it missed its own heartbeat): the attempt it now owns.
  void adopt_attempt(int attempt) { job_.attempt = attempt; }
  int slot() const { return slot_; }
  // Its record (or hand-back) is written: it only retires now (process reaped, cgroup given back).
  bool recorded() const { return finished_; }

 private:
  FileCaps file_caps() const;
  void on_files_fetched(const redisReply *reply);
  void launch();
  Status pack_input_files(const FetchedFiles &fetched);
  Status prepare_directory();
  void refuse(const std::string &sentence);
  void collect_output_files(FinalFacts &facts);
  void fail_to_start(const std::string &sentence);
  void watch(SpawnedSandbox &sandbox);
  Status start_watches(SpawnedSandbox &sandbox);
  void fail_after_spawn(const std::string &sentence);
  void record_without_waiting(const std::string &why);
  void on_spawned(Result<SpawnReply> reply);
  void read_report();
  void on_process_exit();
  void on_timeout();
  void on_output(bool is_stderr, std::string_view bytes);
  void kill_everything();
  void sweep_leftovers();
  void maybe_finish();
  void finish();
  void finish_without_record();
  void retire();
  void retire_step();
  std::vector<std::string> environment() const;
  uid_t sandbox_uid() const;
  uid_t host_uid() const;
  int root_skeleton_fd() const;  // this slot's, or -1
  std::optional<std::string> take_output(std::string &output_json);

  ExecutionContext &context_;
  Job job_;
  const FunctionSpec &function_;
  const ExecTarget &target_;
  int slot_;
  std::function<void(Execution &)> on_finished_;

  std::unique_ptr<JobCgroup> cgroup_;
  std::optional<JobDirectory> directory_;
  // Packed for the job's init to copy into its /work/in (input_files.h); dropped once the sandbox has them.
  std::optional<InputFiles> input_files_;
  UniqueFd package_mount_;  // a user function's package, read-only, until the sandbox has attached it
  std::shared_ptr<const void> keep_alive_;
  SpawnedSandbox pending_;  // while the slot's spawner forks it
  ChildProcess process_;    // before the watch on its pidfd, which must close first
  pid_t process_group_ = -1;  // the function's own group without namespaces (it calls setsid)
  UniqueFd report_fd_;
  UniqueFd result_file_;
  std::unique_ptr<UvPoll> exit_watch_;
  std::unique_ptr<UvPipeReader> stdout_reader_, stderr_reader_;
  UvTimer timeout_timer_;
  UvTimer sweep_timer_;
  UvTimer retire_timer_;
  uint64_t retire_deadline_ms_ = 0;  // uv_now

  int64_t started_at_ms_ = 0;
  uint64_t started_ns_ = 0;
  uint64_t ended_ns_ = 0;
  bool exited_ = false;
  bool cgroup_empty_ = false;
  bool finished_ = false;
  bool lost_ = false;
  int sweep_rounds_ = 0;
  int wait_status_ = 0;
  struct rusage rusage_ {};

  Outcome outcome_;
  LineSplitter stdout_lines_, stderr_lines_;
  LogBudget log_budget_;
};

}  // namespace hutch
