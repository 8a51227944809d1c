// Start-up: removes the cgroup subtrees of supervisors on this machine that are gone, one log line each.
#pragma once

#include <string>

namespace hutch {

// Call with this hutchd's lock held (instance_lock.h) and before the cgroups are set up. Every `hutch-*`
// subtree beside ours whose consumer lock is free belongs to a hutchd that died without cleaning up (killed,
// crashed, machine reset of the service): its processes are killed and its directories removed. Our own
// name's subtree is an earlier run of this consumer and goes too. A subtree whose lock is held, or that has
// no lock file at all, is left alone. Nothing here stops start-up: a failure is a warning.
void sweep_stale_cgroups(const std::string &consumer);

}  // namespace hutch
