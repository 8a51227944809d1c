#include "supervisor/slot_spawner.h"

#include "supervisor/log.h"

namespace hutch {

Status SlotSpawner::start() {
  poll_.reset();  // never poll a socket that is about to close
  spawner_.reset();
  std::span<const int> slot_cgroup = cgroups_ != nullptr ? cgroups_->slot_procs_fds(slot_) : std::span<const int>{};
  auto spawner = Spawner::start(program_, slot_cgroup, user_namespace_fd_);
  if (!spawner) return fail(spawner.error().context("slot " + std::to_string(slot_)));
  spawner_.emplace(std::move(*spawner));
  if (!slot_cgroup.empty()) cgroups_->set_resident(slot_, spawner_->pid());
  auto poll = UvPoll::start(loop_, spawner_->socket(), "hutch-spawner's socket", [this] { on_readable(); });
  if (!poll) {
    spawner_.reset();  // unwatched, its replies would never be read: the next request starts another
    return fail(poll.error().context("slot " + std::to_string(slot_)));
  }
  poll_ = std::move(*poll);
  return {};
}

Result<SpawnedSandbox> SlotSpawner::request(const SpawnOptions &options,
                                            std::function<void(Result<SpawnReply>)> on_reply) {
  if (!spawner_) TRY_STATUS(start());
  auto sandbox = request_sandbox(spawner_->socket(), options);
  if (!sandbox) return sandbox;
  waiting_ = std::move(on_reply);
  return sandbox;
}

void SlotSpawner::on_readable() {
  auto reply = receive_spawn_reply(spawner_->socket());
  if (!reply && reply.error().errno_value == EAGAIN) return;
  auto callback = std::exchange(waiting_, nullptr);
  if (!reply) {
    log_error("slot " + std::to_string(slot_) + ": hutch-spawner failed (" + reply.error().message + "); restarting it");
    poll_.reset();
    spawner_.reset();
    if (auto restarted = start(); !restarted) log_error(restarted.error().message);
  }
  if (callback) callback(std::move(reply));
}

}  // namespace hutch
