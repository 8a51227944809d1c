// hutchd's handle on one hutch-spawner process (see spawner_main.cc for why it exists).
#pragma once

#include <sys/types.h>

#include <span>
#include <utility>

#include "common/error.h"
#include "common/unique_fd.h"
#include "sandbox/exec_target.h"

namespace hutch {

class Spawner {
 public:
  // Starts hutch-spawner as a child of this process that joins the cgroups of `cgroup_procs_fds` before
  // exec and, given one (user_namespace.h), the user namespace of `user_namespace_fd` after it: every
  // sandbox it clones is then born inside. Blocks until exec happened and the namespace is joined (a few
  // ms): for start-up and the rare restart, not per job.
  static Result<Spawner> start(const ExecTarget &program, std::span<const int> cgroup_procs_fds,
                               int user_namespace_fd = -1);

  Spawner(Spawner &&other) noexcept : pid_(std::exchange(other.pid_, -1)), socket_(std::move(other.socket_)) {}
  Spawner &operator=(Spawner &&other) = delete;
  Spawner(const Spawner &) = delete;
  ~Spawner();  // closes the socket (the spawner exits), kills and reaps it

  pid_t pid() const { return pid_; }
  int socket() const { return socket_.get(); }

 private:
  Spawner() = default;
  pid_t pid_ = -1;
  UniqueFd socket_;
};

}  // namespace hutch
