// The user namespace of a hutchd that is not root.
//
// Without root, hutchd cannot create PID, mount, network, IPC, UTS or cgroup namespaces: each needs
// CAP_SYS_ADMIN in the user namespace the creator lives in. Inside a user namespace it owns, it has every
// capability (over that namespace and what it owns, nothing outside). So hutchd builds one at start-up and
// keeps it by fd; the shared empty network namespace and the root skeleton (namespaces.h, mounts.h) are
// built inside it, and the slots' spawners join it once, so that every sandbox they clone gets the same
// namespaces as under root, owned by it.
//
// Why one long-lived namespace and not one per job: a fresh user namespace per job cannot join namespaces
// owned by a sibling, so it would also need a fresh network namespace (~0.5 ms) and a skeleton of its own
// per job; joining one costs nothing measurable (docs/benchmarks.md).
//
// An unprivileged process may map exactly one uid and one gid, its own, and must deny setgroups before
// writing the gid map. So inside, every job is the one `inside_uid` (--uid-base), which is hutchd's uid
// outside: jobs are apart by their namespaces, not by uid (supervisor/protections.h says what that leaves).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"

namespace hutch {

// Parent side, once at start-up (blocking: forks a helper that unshares and writes its id maps). Maps
// `inside_uid`/`inside_gid` to this process's effective uid/gid and allows no user namespace inside it;
// returns an fd that keeps it alive.
Result<UniqueFd> make_user_namespace(uint32_t inside_uid, uint32_t inside_gid);

// The kernel's switches for unprivileged user namespaces; nullopt where this kernel has none.
struct UserNamespaceSwitches {
  std::optional<long> max_user_namespaces;        // /proc/sys/user/max_user_namespaces (0: none allowed)
  std::optional<long> unprivileged_userns_clone;  // kernel.unprivileged_userns_clone (Debian's patch)
};
UserNamespaceSwitches read_user_namespace_switches();

// This process's supplementary groups: what every job in its user namespace keeps, as setgroups is
// denied there.
std::vector<gid_t> own_supplementary_groups();

// Async-signal-safe: joins the namespace of `user_namespace_fd` (the caller must be single-threaded and
// have the owner's uid). 0 or the errno. Afterwards the caller holds every capability inside it.
int enter_user_namespace(int user_namespace_fd);

}  // namespace hutch
