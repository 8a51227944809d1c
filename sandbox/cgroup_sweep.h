// Start-up clean-up of the cgroup subtrees (`hutch-<instance>`) that earlier supervisors on this machine left
// behind: a hutchd killed with SIGKILL, or a machine whose service crashed, never ran its own remove_all().
//
// This file only finds and removes; who may be removed is the caller's decision (supervisor/stale_sweep.cc
// asks the instance's lock file), because a subtree of a live supervisor looks exactly like a stale one.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"

namespace hutch {

// One instance's subtree: its directory in every hierarchy where it exists.
struct CgroupSubtree {
  std::string instance;                  // "host-1234", the sanitized name after "hutch-"
  std::vector<std::string> directories;  // "/sys/fs/cgroup/memory/x/hutch-host-1234", ...
  bool owned_by_me = true;               // every directory belongs to this process's euid
  // Found beside this process's cgroup in every hierarchy of its kind searched (the v2 one, or each v1
  // one). When not, the supervisor that made it sat elsewhere in the others (v1 hierarchies can place a
  // process differently in each), so what it left in them cannot be seen from here.
  bool in_every_hierarchy = true;
};

// The `hutch-*` directories beside the one this process's own subtree would get (the v2 parent, and the
// parent in each v1 hierarchy hutch uses: memory, cpu, cpuacct, pids), grouped by instance and sorted.
// Call it before the supervisor moves itself anywhere (cgroup v2 moves it into <own>/supervisor).
Result<std::vector<CgroupSubtree>> find_cgroup_subtrees();

// Kills every process in the subtree (v2: cgroup.kill where the kernel has it; else SIGKILL to each listed
// pid, repeated until the directories can go, bounded to about a second per directory) and removes its
// directories. Returns how many processes were found in it before the kill.
Result<size_t> remove_cgroup_subtree(const CgroupSubtree &subtree);

}  // namespace hutch
