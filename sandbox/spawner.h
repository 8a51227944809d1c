// hutchd's handle on one hutch-spawner process (see spawner_main.cc for why it exists).
#pragma once

#include <sys/types.h>

#include <span>
#include <utility>

#include "common/error.h"
#include "common/unique_fd.h"
#include "sandbox/child_process.h"
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

  Spawner(Spawner &&other) noexcept = default;
  Spawner &operator=(Spawner &&other) = delete;
  Spawner(const Spawner &) = delete;
  // Closes the socket (the spawner exits on EOF) and kills it; reaped only if it is dead already, never
  // waited for (hutchd restarts a spawner on its event loop). A zombie left goes when hutchd exits.
  ~Spawner();

  pid_t pid() const { return process_.pid(); }
  int socket() const { return socket_.get(); }

 private:
  Spawner() = default;
  UniqueFd socket_;
  ChildProcess process_;
};

}  // namespace hutch
