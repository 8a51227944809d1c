// Wires the parts together: two Redis connections (blocking reads apart from writes), the job stream,
// the function registry, the sandbox's prepared pieces (cgroups, compiled seccomp, exec targets) and the
// running executions. Owns the shutdown sequence.
#pragma once

#include <uv.h>

#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>

#include "catalog/registry.h"
#include "queue/job_stream.h"
#include "queue/redis_connection.h"
#include "sandbox/cgroup.h"
#include "sandbox/exec_target.h"
#include "supervisor/config.h"
#include "supervisor/execution.h"
#include "supervisor/function_seccomp.h"
#include "supervisor/lease_keeper.h"
#include "supervisor/log_shipper.h"
#include "supervisor/seccomp_audit.h"
#include "supervisor/slot_spawner.h"
#include "supervisor/slots.h"
#include "supervisor/user_functions.h"
#include "supervisor/uv_handles.h"

namespace hutch {

class Supervisor {
 public:
  Supervisor(uv_loop_t *loop, SupervisorConfig config);
  ~Supervisor();

  // Detects limits, compiles the seccomp policy, opens functions. An error here stops hutchd at start.
  Status prepare();
  Status prepare_namespaces(bool root);
  Status start_spawners();
  void log_identity(bool root) const;
  std::string isolation_tokens() const;
  // Connects and reads; returns when the loop has nothing left (after shutdown). An error when it could not
  // start, or stopped because a part failed for good (hutchd then exits non-zero).
  Status run();
  // First call: drain. A second call: stop waiting for the grace period.
  void request_shutdown(const char *why);

 private:
  void on_entry(const std::string &id, int attempt, StreamFields fields);
  void abandon(const Job &job);
  void lose(const std::string &id);
  std::vector<std::pair<std::string, int>> owned_jobs() const;
  void run_user_function(Job job, int slot);
  void start_execution(Job job, const FunctionSpec &function, const ExecTarget &target, int slot,
                       std::shared_ptr<const void> keep_alive);
  void reject(const ParsedJob &parsed);
  void on_execution_finished(Execution &execution);
  void bury_finished();
  void end_grace();
  void maybe_exit();
  void close_connections();
  void fail_and_stop(const std::string &why);

  uv_loop_t *loop_;
  SupervisorConfig config_;
  FunctionRegistry registry_;
  std::map<std::string, ExecTarget> targets_;  // function name -> opened executable
  std::unique_ptr<CgroupManager> cgroups_;
  std::optional<ExecTarget> spawner_program_;
  std::vector<std::unique_ptr<SlotSpawner>> spawners_;
  std::optional<FunctionSeccomp> seccomp_;
  SeccompAudit seccomp_audit_;
  UniqueFd user_namespace_;  // not root: the one its sandboxes live in (sandbox/user_namespace.h)
  std::vector<UniqueFd> network_namespaces_;  // one per slot
  std::vector<UniqueFd> root_skeletons_;  // one per slot
  Slots slots_;
  std::unique_ptr<UserFunctions> user_functions_;
  std::set<std::string> resolving_;  // jobs holding a slot while their user function is looked up
  RedisConnection writer_;
  RedisConnection reader_;
  JobStream stream_;
  LogShipper shipper_;
  LeaseKeeper lease_keeper_;
  ExecutionContext context_;
  std::map<std::string, std::unique_ptr<Execution>> executions_;
  std::vector<std::unique_ptr<Execution>> finished_;  // freed on the next loop turn, outside their callbacks
  UvTimer bury_timer_;
  UvTimer grace_timer_;
  UvTimer exit_timer_;
  bool shutting_down_ = false;
  bool stream_stopped_ = false;
  bool closing_ = false;
  int64_t exit_deadline_ms_ = 0;
  std::optional<Error> failure_;  // why hutchd stopped on its own
};

}  // namespace hutch
