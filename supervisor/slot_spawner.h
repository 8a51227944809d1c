// A slot's hutch-spawner on the event loop: sends spawn requests, waits for replies without blocking, and
// restarts the spawner if it dies (the job that was waiting gets an `error` record naming why).
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <optional>

#include "sandbox/cgroup.h"
#include "sandbox/spawn.h"
#include "sandbox/spawner.h"
#include "sandbox/spawner_protocol.h"
#include "supervisor/uv_handles.h"

namespace hutch {

class SlotSpawner {
 public:
  // `cgroups`: null, or the manager whose pooled slot (v1) the spawner lives in. `user_namespace_fd`: -1, or
  // the user namespace a non-root hutchd gives its sandboxes (sandbox/user_namespace.h).
  SlotSpawner(uv_loop_t *loop, const ExecTarget &program, CgroupManager *cgroups, int slot, int user_namespace_fd)
      : loop_(loop), program_(program), cgroups_(cgroups), slot_(slot), user_namespace_fd_(user_namespace_fd) {}
  Status start();

  // Sends the request; `on_reply` runs once with the spawner's answer.
  Result<SpawnedSandbox> request(const SpawnOptions &options, std::function<void(Result<SpawnReply>)> on_reply);

 private:
  void on_readable();

  uv_loop_t *loop_;
  const ExecTarget &program_;
  CgroupManager *cgroups_;
  int slot_;
  int user_namespace_fd_;
  std::optional<Spawner> spawner_;
  std::unique_ptr<UvPoll> poll_;
  std::function<void(Result<SpawnReply>)> waiting_;
};

}  // namespace hutch
