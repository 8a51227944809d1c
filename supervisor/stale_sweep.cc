#include "supervisor/stale_sweep.h"

#include <set>

#include "sandbox/cgroup_mounts.h"
#include "sandbox/cgroup_sweep.h"
#include "supervisor/instance_lock.h"
#include "supervisor/log.h"

namespace hutch {
namespace {

std::string joined(const std::vector<std::string> &items) {
  std::string out;
  for (const std::string &item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

bool remove_subtree(const CgroupSubtree &subtree, const std::string &whose) {
  auto killed = remove_cgroup_subtree(subtree);
  if (!killed) {
    log_warning("start-up clean-up: could not remove the cgroups of " + whose + ": " + killed.error().message);
    return false;
  }
  std::string processes = *killed == 0   ? "no process was left in it"
                         : *killed == 1 ? "killed the 1 process left in it"
                                        : "killed the " + std::to_string(*killed) + " processes left in it";
  log_info("start-up clean-up: removed the cgroups of " + whose + "; " + processes + ": " +
           joined(subtree.directories));
  return true;
}

// Lock files of consumers that are gone and left no cgroups (they exited cleanly, or had none): without
// this, every run under a default name (<host>:<pid>) would leave one in the directory for good.
void remove_unused_lock_files(const std::set<std::string> &keep) {
  auto instances = InstanceLock::list_instances();
  if (!instances) return;  // acquire() just used the directory; nothing worth a warning at start-up
  for (const std::string &instance : *instances) {
    if (keep.count(instance) != 0) continue;
    auto probed = InstanceLock::probe(instance);
    if (probed && probed->state == LockState::kFree) probed->lock->remove_file();
  }
}

}  // namespace

void sweep_stale_cgroups(const std::string &consumer) {
  std::string own = sanitize_cgroup_name(consumer);
  std::set<std::string> keep = {own};
  auto subtrees = find_cgroup_subtrees();
  if (!subtrees) {
    log_warning("start-up clean-up: cannot look for cgroups left by earlier supervisors: " + subtrees.error().message);
    return;
  }
  for (const CgroupSubtree &subtree : *subtrees) {
    keep.insert(subtree.instance);
    if (subtree.instance == own) {
      (void)remove_subtree(subtree, "hutch-" + own + ", left by an earlier run of this consumer");  // it logs
      continue;
    }
    // Another user's supervisor (a delegated cgroup) keeps its lock in its own directory and is not ours to
    // kill; without root we could not remove root's either.
    if (!subtree.owned_by_me) {
      log_debug("start-up clean-up: hutch-" + subtree.instance + " belongs to another user");
      continue;
    }
    // Its supervisor's cgroup differed from ours in a hierarchy, so part of it lies where we do not look:
    // removing the rest and its lock file would leave that part with no owner anyone could find.
    if (!subtree.in_every_hierarchy) {
      log_info("start-up clean-up: left hutch-" + subtree.instance + " alone: it is not beside this hutchd's "
               "cgroup in every hierarchy, so its supervisor ran elsewhere; a hutchd started the way it was "
               "removes it: " + joined(subtree.directories));
      continue;
    }
    auto probed = InstanceLock::probe(subtree.instance);
    if (!probed) {
      log_warning("start-up clean-up: left hutch-" + subtree.instance + " alone: " + probed.error().message);
      continue;
    }
    switch (probed->state) {
      case LockState::kHeld:
        log_debug("start-up clean-up: hutch-" + subtree.instance + " belongs to a running hutchd" +
                  (probed->holder > 0 ? " (pid " + std::to_string(probed->holder) + ")" : std::string()));
        break;
      case LockState::kMissing:
        // No lock file: a hutchd from before the lock may be running with it. Killing a live supervisor's
        // sandboxes is worse than leaving empty directories.
        log_info("start-up clean-up: left hutch-" + subtree.instance +
                 " alone: it has no lock file, so it may belong to a running hutchd of an older version; "
                 "if none runs, kill its processes and rmdir its directories: " +
                 joined(subtree.directories));
        break;
      case LockState::kFree:
        // The lock file stays while the subtree could not go, so the next start-up tries again.
        if (remove_subtree(subtree, "hutch-" + subtree.instance + ", whose hutchd is gone"))
          probed->lock->remove_file();
        break;
    }
  }
  remove_unused_lock_files(keep);
}

}  // namespace hutch
