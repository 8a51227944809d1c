#include "supervisor/supervisor.h"

#include <unistd.h>

#include "queue/keys.h"
#include "queue/record.h"
#include "sandbox/mounts.h"
#include "sandbox/namespaces.h"
#include "supervisor/log.h"

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
      stream_(reader_, writer_, config_.consumer),
      shipper_(loop, writer_),
      bury_timer_(loop),
      grace_timer_(loop),
      exit_timer_(loop) {}

Supervisor::~Supervisor() = default;

Status Supervisor::prepare() {
  TRY_STATUS(registry_.add_builtins(config_.hutch_fn_path));
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

  auto cgroups = CgroupManager::detect(config_.consumer, config_.concurrency);
  if (cgroups) {
    cgroups_ = std::move(*cgroups);
    context_.limits_word = cgroups_->version() == CgroupVersion::kV2 ? "cgroup v2" : "cgroup v1";
    log_info("limits: " + cgroups_->describe());
  } else {
    context_.limits_word = "rlimit";
    log_warning("limits: rlimit only, because no usable cgroup was found (" + cgroups.error().message +
                "). Memory is limited as address space, CPU only as total CPU seconds, processes per uid, and a "
                "timeout kills the process group, not processes that left it. Run hutchd as root or with a "
                "delegated cgroup (systemd Delegate=yes) for real limits.");
  }

  if (cgroups_ && !cgroups_->slot_procs_fds(0).empty()) TRY_STATUS(start_spawners());

  context_.loop = loop_;
  context_.config = &config_;
  context_.cgroups = cgroups_.get();
  context_.seccomp = &*seccomp_;
  context_.writer = &writer_;
  context_.shipper = &shipper_;
  context_.seccomp_audit = &seccomp_audit_;
  context_.change_identity = ::geteuid() == 0;
  if (::geteuid() == 0) {
    auto network = make_empty_network_namespace();
    if (!network) return fail(network.error().context("namespaces"));
    network_namespace_ = std::move(*network);
    RootSkeletonSpec skeleton;
    for (int slot = 0; slot < config_.concurrency; ++slot) skeleton.sandbox_uids.push_back(config_.uid_base + slot);
    auto root = make_root_skeleton(skeleton);
    if (!root) return fail(root.error().context("filesystem view"));
    root_skeleton_ = std::move(*root);
    context_.new_namespaces = true;
    context_.network_namespace_fd = network_namespace_.get();
    context_.root_skeleton_fd = root_skeleton_.get();
    log_info("namespaces: pid, mount, ipc, uts and cgroup per job; network: one shared empty namespace "
             "(loopback only)");
    log_info("filesystem: a read-only skeleton (/usr, minimal /etc and /dev) per job, with its own /proc, and "
             "tmpfs /tmp and " + std::string(kJobWorkingDirectory) + " of " + describe_bytes(config_.tmp_size_bytes) +
             " each");
  } else {
    log_warning("namespaces: hutchd is not root, so jobs share its namespaces: they can see the host's "
                "processes and reach its network, Redis included");
  }
  if (!spawners_.empty()) context_.spawners = &spawners_;
  if (!context_.change_identity)
    log_warning("identity: hutchd is not root, so functions run as its own uid " + std::to_string(::geteuid()));
  else
    log_info("identity: functions run as uid " + std::to_string(config_.uid_base) + "+slot, without capabilities");
  for (const std::string &line : seccomp_->describe()) log_info("seccomp: " + line);
  log_info(std::string("seccomp: the audit log ") +
           (seccomp_audit_.available() ? "names killing calls" : "is not readable, so killing calls go unnamed"));
  context_.isolation = isolation_tokens();
  log_info("isolation: " + context_.isolation);
  log_info("functions: " + joined(registry_.names()));
  return {};
}

// The record's `isolation` field: one token per protection in force (docs/protocol.md lists them).
std::string Supervisor::isolation_tokens() const {
  std::vector<std::string> tokens;
  tokens.push_back(context_.limits_word == "cgroup v2" ? "cgroup-v2" : context_.limits_word == "cgroup v1" ? "cgroup-v1" : "rlimit");
  if (context_.new_namespaces) {
    for (const char *token : {"pidns", "ipcns", "utsns", "cgroupns", "netns"}) tokens.push_back(token);
    if (context_.root_skeleton_fd >= 0) tokens.push_back("rootfs");
  }
  if (context_.change_identity) {
    tokens.push_back("uid");
    tokens.push_back("nocaps");
  }
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
    auto spawner = std::make_unique<SlotSpawner>(loop_, *spawner_program_, *cgroups_, slot);
    TRY_STATUS(spawner->start());
    spawners_.push_back(std::move(spawner));
  }
  log_info("spawners: one per slot, inside its cgroup, so no job pays a cgroup v1 migration");
  return {};
}

void Supervisor::run() {
  std::string where = config_.redis.describe();
  writer_.start({
      .on_ready = [where] { log_info("connected to Redis at " + where); },
      .on_down =
          [where](const std::string &why) {
            log_warning("Redis at " + where + " is unreachable (" + why +
                        "); reconnecting with backoff. Running jobs go on; their writes wait.");
          },
  });
  stream_.set_handlers({
      .free_slots = [this]() -> size_t { return shutting_down_ ? 0 : slots_.free_count(); },
      .on_entry = [this](const std::string &id, StreamFields fields) { on_entry(id, std::move(fields)); },
      .on_reading =
          [this] {
            log_info("consumer " + config_.consumer + ", concurrency " + std::to_string(config_.concurrency));
            log_info("ready");
          },
      .on_error = [](const std::string &sentence) { log_warning(sentence); },
  });
  reader_.start({.on_ready = [this] { stream_.on_reader_ready(); }, .on_down = {}});
  uv_run(loop_, UV_RUN_DEFAULT);
  spawners_.clear();  // before the cgroups go: they live in them
  if (cgroups_) {
    auto removed = cgroups_->remove_all();
    if (!removed) log_warning("removing this supervisor's cgroups: " + removed.error().message);
  }
}

void Supervisor::on_entry(const std::string &id, StreamFields fields) {
  if (executions_.count(id) != 0) return;  // re-read from our pending list while it runs
  FunctionCatalog catalog{
      .exists = [this](const std::string &name) { return targets_.count(name) != 0; },
      .names = [this] { return registry_.names(); },
  };
  ParsedJob parsed = parse_job(id, fields, catalog);
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
  auto execution = std::make_unique<Execution>(context_, std::move(parsed.job), *registry_.find(function),
                                               targets_.at(function), *slot,
                                               [this](Execution &done) { on_execution_finished(done); });
  Execution &started = *execution;
  executions_.emplace(id, std::move(execution));
  started.start();
}

void Supervisor::reject(const ParsedJob &parsed) {
  log_info("job " + parsed.job.id + " rejected: " + *parsed.rejection);
  FinalFacts facts;
  facts.status = ExecutionStatus::kRejected;
  facts.error = *parsed.rejection;
  facts.worker = config_.consumer;
  facts.finished_at_ms = now_unix_ms();
  std::string id = parsed.job.id;
  writer_.send_batch(final_commands(parsed.job, facts), [id](const redisReply *reply) {
    if (reply_is_error(reply)) log_error("job " + id + ": writing the rejection failed: " + reply_string(reply));
  });
}

void Supervisor::on_execution_finished(Execution &execution) {
  slots_.release(execution.slot());
  auto it = executions_.find(execution.id());
  if (it != executions_.end()) {
    finished_.push_back(std::move(it->second));
    executions_.erase(it);
  }
  bury_timer_.start(0, [this] { bury_finished(); });
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
  stream_.stop([this] {
    stream_stopped_ = true;
    maybe_exit();
  });
  grace_timer_.start(static_cast<uint64_t>(config_.grace_seconds * 1000), [this] {
    if (executions_.empty()) return;
    log_warning("grace period over: killing the " + std::to_string(executions_.size()) + " jobs still running");
    for (auto &[id, execution] : executions_) execution->stop_for_shutdown();
  });
  maybe_exit();
}

void Supervisor::maybe_exit() {
  if (!shutting_down_ || !stream_stopped_ || !executions_.empty() || closing_) return;
  closing_ = true;
  grace_timer_.stop();
  shipper_.flush();
  exit_deadline_ms_ = now_unix_ms() + kFinalWritesDeadlineMs;
  exit_timer_.start(
      0,
      [this] {
        bool done = writer_.outstanding() == 0;
        if (!done && now_unix_ms() < exit_deadline_ms_) return;  // the repeat checks again
        exit_timer_.stop();
        if (!done)
          log_error(std::to_string(writer_.outstanding()) + " writes could not reach Redis within " +
                    std::to_string(kFinalWritesDeadlineMs / 1000) + " s and are lost");
        bury_finished();
        spawners_.clear();  // their socket polls would keep the loop running
        writer_.close([] {});
        reader_.close([] {});
        log_info("stopped");
      },
      10);
}

}  // namespace hutch
