#include "supervisor/lease_keeper.h"

#include <optional>

#include "queue/delivery_scripts.h"
#include "queue/record.h"
#include "supervisor/log.h"

namespace hutch {

LeaseKeeper::LeaseKeeper(uv_loop_t *loop, RedisConnection &writer, const SupervisorConfig &config, Handlers handlers)
    : loop_(loop),
      writer_(writer),
      config_(config),
      handlers_(std::move(handlers)),
      heartbeat_timer_(loop),
      maintenance_timer_(loop) {}

Status LeaseKeeper::start() {
  auto interval = static_cast<uint64_t>(heartbeat_interval_ms(config_.lease_ms));
  auto heartbeats = heartbeat_timer_.start(interval, [this] { heartbeat(); }, interval);
  if (!heartbeats) return fail(heartbeats.error().context("the heartbeat timer"));
  auto maintenance = maintenance_timer_.start(kMaintenanceIntervalMs, [this] { maintain(); }, kMaintenanceIntervalMs);
  if (!maintenance) return fail(maintenance.error().context("the queue maintenance timer"));
  return {};
}

void LeaseKeeper::stop() {
  heartbeat_timer_.stop();
  maintenance_timer_.stop();
}

void LeaseKeeper::on_writer_ready() {
  writer_ready_at_ms_ = uv_now(loop_);
  heartbeat_in_flight_ = false;  // a heartbeat lost with the old connection never answers
  heartbeat();
  if (!maintained_) maintain();
}

bool LeaseKeeper::may_claim() const {
  return writer_.is_ready() && writer_ready_at_ms_ != 0 &&
         uv_now(loop_) - writer_ready_at_ms_ >= static_cast<uint64_t>(heartbeat_interval_ms(config_.lease_ms));
}

void LeaseKeeper::heartbeat() {
  if (heartbeat_in_flight_ || !writer_.is_ready()) return;
  std::vector<std::pair<std::string, int>> running = handlers_.running();
  if (running.empty()) return;
  heartbeat_in_flight_ = true;
  // Not retried: a heartbeat that missed its connection is replaced by the next one.
  writer_.send(heartbeat_command(config_.consumer, running), [this](const redisReply *reply) {
    heartbeat_in_flight_ = false;
    if (reply == nullptr) return;
    auto lost = parse_heartbeat_reply(reply);
    if (!lost) {
      log_warning("heartbeat failed: " + lost.error().message);
      return;
    }
    for (const std::string &id : *lost) handlers_.on_lost(id);
  }, false);
}

void LeaseKeeper::maintain() {
  if (!writer_.is_ready()) return;
  maintained_ = true;
  std::optional<int64_t> cutoff;
  if (config_.retention_ms > 0) cutoff = now_unix_ms() - config_.retention_ms;
  writer_.send(maintenance_command(cutoff), [](const redisReply *reply) {
    if (reply == nullptr) return;  // the next round does it
    if (reply_is_error(reply)) {
      log_warning("queue maintenance (trim hutch:jobs, prune hutch:execs) failed: " + reply_string(reply));
      return;
    }
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2)
      log_debug("queue maintenance: " + reply_string(reply->element[0]) + " acknowledged entries trimmed, " +
                reply_string(reply->element[1]) + " ids pruned from hutch:execs");
  }, false);
}

}  // namespace hutch
