// The filesystem a job sees: not the host's root but a skeleton built once at start-up, of which each job
// gets a private copy plus its own /proc, /tmp and working directory.
//
// The skeleton (a read-only tmpfs root, in a mount namespace of its own that hutchd holds by fd; one per
// slot):
//   /usr through a read-only overlay of its own (and /bin, /lib*, /sbin as on the host: merged-/usr
//   symlinks or read-only binds). Locks live on inodes and an overlay's are its own, so a job's flock on
//   a file under /usr is seen neither by the host nor by other slots' jobs.
//   /etc with only ld.so.cache, localtime, passwd and group naming the sandbox users, an empty resolv.conf
//   /dev with only null, zero, full, random, urandom and tty (binds of the host's nodes) and the fd links
//   empty /proc, /tmp, /work to mount on. No /sys, /home, /root, /var, /run, no host /proc.
// Per job (in the job's init, after its PID namespace exists): join the skeleton namespace, unshare a
// private copy of it (a handful of mounts, so cheap), and mount a fresh proc, a size-limited tmpfs /tmp
// and a tmpfs /work owned by the sandbox user (or attach the one hutchd made, job_directory.h). All of it vanishes with the job's last process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"
#include "sandbox/child_plan.h"

namespace hutch {

inline constexpr const char kJobWorkingDirectory[] = "/work";
inline constexpr const char kFunctionPackageDirectory[] = "/function";

struct RootSkeletonSpec {
  std::vector<uid_t> sandbox_uids;  // one passwd/group entry each ("hutch<slot>")
  // Not root: build it inside this user namespace (user_namespace.h), so that jobs there may copy it. Its
  // /proc then holds the host's proc, which each job's own proc covers: in a user namespace the kernel
  // mounts a proc only where one is already fully visible in the mount namespace.
  int user_namespace_fd = -1;
};

struct RootSkeleton {
  UniqueFd mount_namespace;
  // Empty when /usr is an overlay of the skeleton's own. Otherwise why it could not be (no overlayfs, or a
  // user namespace that may not mount one): /usr is then a bind of the host's, locks and all.
  std::string overlay_refused;
};

// Parent side, once at start-up (once per slot): builds the skeleton in a helper process and returns an fd
// of its mount namespace. Blocking (a few ms), before the event loop runs.
Result<RootSkeleton> make_root_skeleton(const RootSkeletonSpec &spec);

// "size=67108864,mode=1777": mount options of the job's tmpfs mounts, prepared by the parent.
std::string tmpfs_options(uint64_t size_bytes, const char *mode, int owner_uid = -1);

// Parent side, per job of a user function: a detached, read-only (nosuid, nodev) copy of the bind of the
// directory `directory_fd` holds (its unpacked package, leased from the cache: by fd, so no path is looked
// up again), for the job's init to attach at /function. `shown` names it in errors.
Result<UniqueFd> clone_read_only_tree(int directory_fd, const std::string &shown);

// Child side, async-signal-safe, in the job's init: the private copy of the skeleton and the job's mounts.
// Returns the step that failed (errno says why), or ChildStage::kNone.
ChildStage enter_job_root(const ChildPlan &plan);

}  // namespace hutch
