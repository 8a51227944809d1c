// One hutchd per consumer name on a machine: an flock on consumer-<name>.lock, held for hutchd's whole life.
//
// Two supervisors with one consumer name would share one pending list in Redis and one cgroup subtree, each
// taking the other's jobs for a dead run's and killing its sandboxes, so the second one refuses to start.
// The lock also tells the start-up sweep (stale_sweep.cc) which `hutch-*` cgroup subtrees still have a live
// owner: the kernel drops an flock when its holder dies, however it dies, so a free lock means a dead owner.
//
// The directory is /run/hutch for root (a tmpfs: the locks go with a reboot, like the cgroups they
// guard), else $XDG_RUNTIME_DIR/hutch or /tmp/hutch-<uid>. The file holds the holder's pid, for the sentence.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hutch {

struct LockProbe;

class InstanceLock {
 public:
  // Takes the lock of `consumer` (sanitized like its cgroup subtree, so "a:b" and "a-b" share one), retrying
  // for up to a second while an exiting holder lets go. Held elsewhere: "another hutchd on this machine runs
  // as consumer X (pid N); give each one its own --consumer".
  static Result<InstanceLock> acquire(const std::string &consumer);

  // For the sweep: the lock of the sanitized instance name `instance` when its file exists and nobody holds
  // it (see LockProbe).
  static Result<LockProbe> probe(const std::string &instance);

  // Sanitized instance names of every lock file in the lock directory.
  static Result<std::vector<std::string>> list_instances();

  // Deletes the lock file while still holding it; acquire() checks that the file it locked is still the one
  // at the path, so nobody can hold a lock on a deleted file believing it is the consumer's.
  void remove_file();

  const std::string &path() const { return path_; }

 private:
  InstanceLock(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
};

enum class LockState {
  kFree,     // the file exists and nobody holds it: its owner is gone
  kHeld,     // a live process holds it
  kMissing,  // no lock file: an owner older than the lock, or with another lock directory; nothing is known
};

struct LockProbe {
  LockState state = LockState::kMissing;
  std::optional<InstanceLock> lock;  // kFree only: held now by the caller
  pid_t holder = 0;                  // kHeld: the pid the file names (0 when unreadable)
};

// The directory of the lock files, created (mode 0755 for root, 0700 otherwise) when missing.
Result<std::string> instance_lock_directory();

}  // namespace hutch
