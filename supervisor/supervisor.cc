#include "supervisor/supervisor.h"

#include <unistd.h>

#include "queue/keys.h"
#include "queue/record.h"
#include "sandbox/mounts.h"
#include "sandbox/namespaces.h"
#include "sandbox/user_namespace.h"
#include "supervisor/log.h"
#include "supervisor/protections.h"
#include "supervisor/service_notify.h"

namespace hutch {
namespace {

// After the last job, how long writes may wait for an unreachable Redis before hutchd gives up on them.
constexpr int64_t kFinalWritesDeadlineMs = 10000;

std::string joined(const std::vector<std::string> &names) {
  std::string out;
  for (const std::string &name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

Supervisor::Supervisor(uv_loop_t *loop, SupervisorConfig config)
    : loop_(loop),
      config_(std::move(config)),
      slots_(config_.concurrency),
      writer_(loop, config_.redis, "hutchd-write:" + config_.consumer),
      reader_(loop, config_.redis, "hutchd-read:" + config_.consumer),
      stream_(reader_, writer_, config_.consumer, config_.lease_ms, LeaseKeeper::claim_interval_ms(config_.lease_ms)),
      shipper_(loop, writer_, config_.buffer_cap_bytes),
      lease_keeper_(loop, writer_, config_,
                    {.running = [this] { return owned_jobs(); },
                     .on_lost = [this](const std::string &id) { lose(id); }}),
      bury_timer_(loop),
      grace_timer_(loop),
      exit_timer_(loop) {}

Supervisor::~Supervisor() = default;

Status Supervisor::prepare() {
  TRY_STATUS(registry_.add_builtins(config_.hutch_fn_path));
  // The image functions are optional: a hutchd without hutch-image (or OpenCV) still runs everything else,
  // and rejects jobs for them with the reason.
  if (auto images = registry_.add_image_builtins(config_.hutch_image_path); !images) {
    log_warning("image functions (" + joined(image_function_names()) + ") are unavailable: " +
                images.error().message + "; give --hutch-image PATH to enable them");
  }
  for (const std::string &flag : config_.local_functions) {
    auto added = registry_.add_local_from_flag(flag);
    if (!added) return fail(added.error().context("--function " + flag));
  }
  for (const std::string &name : registry_.names()) {
    auto target = ExecTarget::open(registry_.find(name)->executable);
    if (!target) return fail(target.error().context("function '" + name + "'"));
    targets_.emplace(name, std::move(*target));
  }

  auto seccomp = FunctionSeccomp::prepare(config_, registry_);
  if (!seccomp) return fail(seccomp.error().context("seccomp"));
  seccomp_.emplace(std::move(*seccomp));

  bool root = ::geteuid() == 0;
  auto cgroups = CgroupManager::detect(config_.consumer, config_.concurrency);
  if (cgroups) {
    cgroups_ = std::move(*cgroups);
    context_.limits_word = cgroups_->version() == CgroupVersion::kV2 ? "cgroup v2" : "cgroup v1";
    log_info("limits: " + cgroups_->describe());
  } else {
    context_.limits_word = "rlimit";
    log_warning(describe_missing(no_cgroup_limits(cgroups.error().message, root, cgroup_v2_holds_the_controllers())));
  }

  TRY_STATUS(prepare_namespaces(root));
  bool slot_cgroups = cgroups_ && !cgroups_->slot_procs_fds(0).empty();
  if (slot_cgroups || user_namespace_) TRY_STATUS(start_spawners());

  user_functions_ = std::make_unique<UserFunctions>(loop_, writer_, config_.cache_directory, config_.cache_size_bytes);
  if (::geteuid() == 0) {
    TRY_STATUS(user_functions_->prepare());
  } else {
    user_functions_->disable("user functions need hutchd to run as root (their package is mounted into the job)");
    log_warning("user functions: unavailable, hutchd is not root (their package is mounted into each job)");
  }
  context_.loop = loop_;
  context_.config = &config_;
  context_.cgroups = cgroups_.get();
  context_.seccomp = &*seccomp_;
  context_.writer = &writer_;
  context_.on_lost = [this](const std::string &id) { lose(id); };
  context_.shipper = &shipper_;
  context_.seccomp_audit = &seccomp_audit_;
  if (!spawners_.empty()) context_.spawners = &spawners_;
  context_.change_identity = root || context_.user_namespace;
  log_identity(root);
  for (const std::string &line : seccomp_->describe()) log_info("seccomp: " + line);
  log_info(std::string("seccomp: the audit log ") +
           (seccomp_audit_.available() ? "names killing calls" : "is not readable, so killing calls go unnamed"));
  context_.isolation = isolation_tokens();
  log_info("isolation: " + context_.isolation);
  log_info("functions: " + joined(registry_.names()));
  return {};
}

// Root: the shared empty network namespace and the root skeleton. Not root: the same, built inside a user
// namespace hutchd owns (sandbox/user_namespace.h), or, when none can be made, no namespaces at all.
Status Supervisor::prepare_namespaces(bool root) {
  if (!root) {
    auto user = make_user_namespace(config_.uid_base, config_.uid_base);
    if (!user) {
      UserNamespaceSwitches switches = read_user_namespace_switches();
      log_warning(describe_missing(no_user_namespaces(user_namespace_cause(
          switches.max_user_namespaces, switches.unprivileged_userns_clone, user.error().message))));
      return {};
    }
    user_namespace_ = std::move(*user);
    context_.user_namespace = true;
  }
  // One empty network namespace per slot, not one for all: jobs running at the same time must not reach
  // each other's loopback ports or abstract sockets, and jobs on one slot never overlap, so it costs nothing
  // per job (a fresh namespace per job would cost ~0.5 ms, docs/benchmarks.md).
  for (int slot = 0; slot < config_.concurrency; ++slot) {
    auto network = make_empty_network_namespace(user_namespace_.get());
    if (!network) return fail(network.error().context("namespaces"));
    context_.network_namespace_fds.push_back(network->get());
    network_namespaces_.push_back(std::move(*network));
  }
  RootSkeletonSpec skeleton;
  // Inside a user namespace every job is the one uid hutchd maps there.
  int uids = root ? config_.concurrency : 1;
  for (int slot = 0; slot < uids; ++slot) skeleton.sandbox_uids.push_back(config_.uid_base + slot);
  skeleton.user_namespace_fd = user_namespace_.get();
  // One skeleton per slot, like the network namespaces: its /usr is an overlay of its own, so a file lock a
  // job takes there is private to the slot (mounts.h); jobs on one slot never overlap.
  for (int slot = 0; slot < config_.concurrency; ++slot) {
    auto built = make_root_skeleton(skeleton);
    if (!built) return fail(built.error().context("filesystem view"));
    if (slot == 0 && !built->overlay_refused.empty())
      log_warning("filesystem: /usr cannot be shown through an overlay of each slot's own (" + built->overlay_refused +
                  "); it is bound as it is, so a job's file locks there are seen by the host and other jobs; "
                  "modprobe overlay");
    context_.root_skeleton_fds.push_back(built->mount_namespace.get());
    root_skeletons_.push_back(std::move(built->mount_namespace));
  }
  context_.new_namespaces = true;
  // The working directory is a tmpfs hutchd mounts itself (job_directory.h): that takes root.
  context_.job_directories = root;
  std::string user = root ? "" : "a user namespace owned by hutchd (uid " + std::to_string(config_.uid_base) +
                                     " inside is " + std::to_string(::geteuid()) + " outside), and in it ";
  log_info("namespaces: " + user + "pid, mount, ipc, uts and cgroup per job; network: an empty namespace per "
           "slot (loopback only)");
  std::string work = root ? std::string(kJobWorkingDirectory) + " made by hutchd per job, with the job's files in "
                                "$HUTCH_IN and what it hands back in $HUTCH_OUT (at most " +
                                describe_bytes(config_.file_cap_bytes) + " per file, " +
                                describe_bytes(config_.job_files_cap_bytes) + " per job)"
                          : std::string(kJobWorkingDirectory) + " of the same size (no files in or out without root)";
  log_info("filesystem: a read-only skeleton per slot (/usr through an overlay of its own, minimal /etc and /dev), "
           "copied per job, with its own /proc, tmpfs /tmp of " + describe_bytes(config_.tmp_size_bytes) + ", and " + work);
  return {};
}

// One line for who the function runs as; a warning for each protection that costs.
void Supervisor::log_identity(bool root) const {
  if (root) {
    log_info("identity: functions run as uid " + std::to_string(config_.uid_base) + "+slot, without capabilities");
    return;
  }
  if (!context_.user_namespace) {
    log_warning(describe_missing(shared_uid_without_namespaces(::geteuid())));
    return;
  }
  log_warning(describe_missing(shared_uid_in_user_namespace(::geteuid(), config_.uid_base)));
  if (auto kept = kept_supplementary_groups(own_supplementary_groups(), ::getegid())) log_warning(describe_missing(*kept));
}

// The record's `isolation` field: one token per protection in force (docs/protocol.md lists them).
std::string Supervisor::isolation_tokens() const {
  std::vector<std::string> tokens;
  tokens.push_back(context_.limits_word == "cgroup v2" ? "cgroup-v2" : context_.limits_word == "cgroup v1" ? "cgroup-v1" : "rlimit");
  if (context_.user_namespace) tokens.push_back("userns");
  if (context_.new_namespaces) {
    for (const char *token : {"pidns", "ipcns", "utsns", "cgroupns", "netns"}) tokens.push_back(token);
    if (!context_.root_skeleton_fds.empty()) tokens.push_back("rootfs");
  }
  // Inside a user namespace every job shares one uid: no capabilities, but no uid of its own.
  if (context_.change_identity && !context_.user_namespace) tokens.push_back("uid");
  if (context_.change_identity) tokens.push_back("nocaps");
  tokens.push_back("nnp");
  tokens.push_back("seccomp");
  std::string joined_tokens;
  for (const std::string &token : tokens) joined_tokens += (joined_tokens.empty() ? "" : " ") + token;
  return joined_tokens;
}

Status Supervisor::start_spawners() {
  auto program = ExecTarget::open(config_.spawner_path);
  if (!program) return fail(program.error().context("hutch-spawner (--spawner)"));
  spawner_program_.emplace(std::move(*program));
  for (int slot = 0; slot < config_.concurrency; ++slot) {
    auto spawner = std::make_unique<SlotSpawner>(loop_, *spawner_program_, cgroups_.get(), slot, user_namespace_.get());
    TRY_STATUS(spawner->start());
    spawners_.push_back(std::move(spawner));
  }
  bool in_slot_cgroup = cgroups_ && !cgroups_->slot_procs_fds(0).empty();
  std::string where = in_slot_cgroup ? "inside its cgroup, so no job pays a cgroup v1 migration" : "";
  if (user_namespace_) where += (where.empty() ? "" : ", and ") + std::string("inside hutchd's user namespace, "
                                                                            "where it may clone the job's namespaces");
  log_info("spawners: one per slot, " + where);
  return {};
}

Status Supervisor::run() {
  std::string where = config_.redis.describe();
  // Either connection failing for good (it could not arm the timer it reconnects with) stops hutchd with the
  // reason: a supervisor that can no longer reach Redis must not sit there looking alive.
  auto on_failed = [this](const std::string &why) { fail_and_stop(why); };
  TRY_STATUS(writer_.start({
      .on_ready =
          [this, where] {
            log_info("connected to Redis at " + where);
            lease_keeper_.on_writer_ready();
          },
      .on_down =
          [where](const std::string &why) {
            log_warning("Redis at " + where + " is unreachable (" + why +
                        "); reconnecting with backoff. Running jobs go on; their writes wait.");
          },
      .on_failed = on_failed,
  }));
  stream_.set_handlers({
      .free_slots = [this]() -> size_t { return shutting_down_ ? 0 : slots_.free_count(); },
      .on_entry = [this](const std::string &id, int attempt, StreamFields fields) {
        on_entry(id, attempt, std::move(fields));
      },
      .may_claim = [this] { return !shutting_down_ && lease_keeper_.may_claim(); },
      .on_reading =
          [this] {
            log_info("consumer " + config_.consumer + ", concurrency " + std::to_string(config_.concurrency));
            log_info("ready");
            notify_service("READY=1\nSTATUS=reading hutch:jobs as consumer " + config_.consumer);
          },
      .on_error = [](const std::string &sentence) { log_warning(sentence); },
  });
  TRY_STATUS(reader_.start({.on_ready = [this] { stream_.on_reader_ready(); }, .on_down = {}, .on_failed = on_failed}));
  TRY_STATUS(lease_keeper_.start());
  uv_run(loop_, UV_RUN_DEFAULT);
  spawners_.clear();  // before the cgroups go: they live in them
  if (cgroups_) {
    // Blocking (a second at most per cgroup that still holds dying processes): the loop has ended.
    auto removed = cgroups_->remove_all();
    if (!removed) log_warning("removing this supervisor's cgroups: " + removed.error().message);
  }
  if (failure_) return fail(*failure_);
  return {};
}

void Supervisor::fail_and_stop(const std::string &why) {
  log_error(why + "; stopping");
  if (!failure_) failure_ = make_error(why);
  request_shutdown("a failure");
}

void Supervisor::on_entry(const std::string &id, int attempt, StreamFields fields) {
  if (auto running = executions_.find(id); running != executions_.end()) {
    running->second->adopt_attempt(attempt);  // claimed from ourselves after a missed heartbeat: still ours
    return;
  }
  if (resolving_.count(id) != 0) return;
  // A name that is not built in or local may be a user function, stored in Redis: looked up once a slot
  // is taken (run_user_function), and rejected then if it does not exist.
  FunctionCatalog catalog{
      .exists = [this](const std::string &name) { return targets_.count(name) != 0 || is_valid_function_name(name); },
      .names = [this] { return registry_.names(); },
  };
  ParsedJob parsed = parse_job(id, std::move(fields), catalog);
  parsed.job.attempt = attempt;
  if (attempt > config_.max_attempts) {
    abandon(parsed.job);
    return;
  }
  if (attempt > 1)
    log_info("job " + id + ": attempt " + std::to_string(attempt) + " of " + std::to_string(config_.max_attempts) +
             "; the previous attempt's supervisor stopped before it finished");
  // A built-in this hutchd merely lacks is neither unknown nor a user function: say what is missing.
  if (const std::string *reason = registry_.unavailable_reason(parsed.job.function)) parsed.rejection = *reason;
  if (parsed.rejection) {
    reject(parsed);
    return;
  }
  auto slot = slots_.acquire();
  if (!slot) {
    // Reads ask for no more entries than free slots, so this is a bug, not load: say so loudly.
    log_error("job " + id + " arrived with no free slot; it stays pending for a retry");
    return;
  }
  const std::string function = parsed.job.function;
  if (targets_.count(function) == 0) {
    run_user_function(std::move(parsed.job), *slot);
    return;
  }
  start_execution(std::move(parsed.job), *registry_.find(function), targets_.at(function), *slot, nullptr);
}

void Supervisor::start_execution(Job job, const FunctionSpec &function, const ExecTarget &target, int slot,
                                 std::shared_ptr<const void> keep_alive) {
  std::string id = job.id;
  auto execution = std::make_unique<Execution>(context_, std::move(job), function, target, slot,
                                               [this](Execution &done) { on_execution_finished(done); },
                                               std::move(keep_alive));
  Execution &started = *execution;
  executions_.emplace(id, std::move(execution));
  started.start();
}

void Supervisor::run_user_function(Job job, int slot) {
  resolving_.insert(job.id);
  std::string name = job.function;
  user_functions_->resolve(name, [this, job = std::move(job), slot](Resolution resolution) mutable {
    resolving_.erase(job.id);
    auto give_back = [this, slot] {
      slots_.release(slot);
      stream_.poke();
      maybe_exit();
    };
    if (!resolution.function) {
      ParsedJob refused{job, {}};
      refused.rejection = resolution.unknown
                              ? "function: " + quote_value(job.function) + " is not a known function; known functions are " +
                                    joined(registry_.names()) + ", and the user functions `hutch function list` shows"
                              : resolution.sentence;
      if (!resolution.unknown) log_error("job " + job.id + ": " + resolution.sentence);
      reject(refused);
      give_back();
      return;
    }
    const FunctionDefinition &definition = resolution.function->definition;
    if (!job.timeout_given && definition.timeout_seconds) job.timeout_seconds = *definition.timeout_seconds;
    if (!job.memory_given && definition.memory_bytes) job.memory_bytes = *definition.memory_bytes;
    if (!job.cpu_given && definition.cpu_cores) job.cpu_cores = *definition.cpu_cores;
    const ResolvedFunction &resolved = *resolution.function;
    start_execution(std::move(job), resolved.spec, resolved.target, slot, resolution.function);
  });
}

void Supervisor::reject(const ParsedJob &parsed) {
  log_info("job " + parsed.job.id + " rejected: " + *parsed.rejection);
  std::string id = parsed.job.id;
  FinalFacts facts = rejection_facts(config_.consumer, *parsed.rejection);
  facts.retention_ms = config_.retention_ms;
  writer_.send(final_write(parsed.job, std::move(facts)), record_reply_handler(id, "the rejection"));
}

// Delivered more often than --max-attempts: each earlier attempt's supervisor died with it. Not run again;
// the record names the last one (the `worker` of its `running` record), read first.
void Supervisor::abandon(const Job &job) {
  int attempts = job.attempt - 1;
  log_warning("job " + job.id + " abandoned: its supervisor stopped " + std::to_string(attempts) +
              " times while running it (--max-attempts " + std::to_string(config_.max_attempts) + ")");
  writer_.send({"HGET", keys::execution_record(job.id), std::string(keys::record::kWorker)},
               [this, job](const redisReply *reply) {
                 bool named = reply != nullptr && reply->type == REDIS_REPLY_STRING;
                 std::string last_worker = named ? reply_string(reply) : "";
                 FinalFacts facts = rejection_facts(config_.consumer, abandoned_sentence(job.attempt - 1, last_worker));
                 facts.status = ExecutionStatus::kAbandoned;
                 facts.retention_ms = config_.retention_ms;
                 writer_.send(final_write(job, std::move(facts)), record_reply_handler(job.id, "the abandoned record"));
               });
}

// Another supervisor owns the job now (a heartbeat or a fenced write said so): its attempt records it.
void Supervisor::lose(const std::string &id) {
  auto found = executions_.find(id);
  if (found != executions_.end()) found->second->stop_lost();
}

std::vector<std::pair<std::string, int>> Supervisor::owned_jobs() const {
  std::vector<std::pair<std::string, int>> owned;
  for (const auto &[id, execution] : executions_) {
    // A retiring execution's entry is acknowledged already: nothing left to keep.
    if (!execution->recorded()) owned.emplace_back(id, execution->attempt());
  }
  return owned;
}

void Supervisor::on_execution_finished(Execution &execution) {
  slots_.release(execution.slot());
  auto it = executions_.find(execution.id());
  if (it != executions_.end()) {
    finished_.push_back(std::move(it->second));
    executions_.erase(it);
  }
  if (auto armed = bury_timer_.start(0, [this] { bury_finished(); }); !armed)
    log_error("cannot arm the timer that frees finished jobs (" + armed.error().message + "); they are freed when "
              "hutchd stops");
  stream_.poke();
  maybe_exit();
}

void Supervisor::bury_finished() { finished_.clear(); }

void Supervisor::request_shutdown(const char *why) {
  if (shutting_down_) {
    log_warning(std::string(why) + " again: killing the " + std::to_string(executions_.size()) + " running jobs now");
    for (auto &[id, execution] : executions_) execution->stop_for_shutdown();
    return;
  }
  shutting_down_ = true;
  log_info(std::string(why) + ": draining; no new jobs are read; " + std::to_string(executions_.size()) +
           " running jobs get up to " + describe_seconds(config_.grace_seconds) + " to finish");
  notify_service("STOPPING=1\nSTATUS=draining: " + std::to_string(executions_.size()) + " running jobs");
  stream_.stop([this] {
    stream_stopped_ = true;
    maybe_exit();
  });
  auto grace = grace_timer_.start(static_cast<uint64_t>(config_.grace_seconds * 1000), [this] { end_grace(); });
  if (!grace) {
    log_error("cannot arm the grace timer (" + grace.error().message + "): ending the grace period now");
    end_grace();
  }
  maybe_exit();
}

void Supervisor::end_grace() {
  if (executions_.empty()) return;
  log_warning("grace period over: killing the " + std::to_string(executions_.size()) +
              " jobs still running and handing them back to the queue");
  for (auto &[id, execution] : executions_) execution->stop_for_shutdown();
}

void Supervisor::maybe_exit() {
  if (!shutting_down_ || !stream_stopped_ || !executions_.empty() || !resolving_.empty() || closing_) return;
  closing_ = true;
  grace_timer_.stop();
  shipper_.flush();
  exit_deadline_ms_ = now_unix_ms() + kFinalWritesDeadlineMs;
  auto armed = exit_timer_.start(
      0,
      [this] {
        bool done = writer_.outstanding() == 0;
        if (!done && now_unix_ms() < exit_deadline_ms_) return;  // the repeat checks again
        bury_finished();  // here, outside any execution's own callback
        close_connections();
      },
      10);
  if (!armed) {
    log_error("cannot arm the timer that waits for the last writes (" + armed.error().message + "); closing now");
    close_connections();
  }
}

void Supervisor::close_connections() {
  exit_timer_.stop();
  if (writer_.outstanding() != 0)
    log_error(std::to_string(writer_.outstanding()) + " writes could not reach Redis within " +
              std::to_string(kFinalWritesDeadlineMs / 1000) + " s and are lost");
  spawners_.clear();  // their socket polls would keep the loop running
  lease_keeper_.stop();
  writer_.close([] {});
  reader_.close([] {});
  log_info("stopped");
}

}  // namespace hutch
