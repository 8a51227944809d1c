// Namespaces of a sandbox: fresh PID, mount, IPC, UTS and cgroup namespaces per job, and one empty network
// namespace (only loopback, no route to the host, so no Redis) shared by every job.
//
// Why shared: a fresh network namespace costs ~0.6 ms per job on this VM kind, and an empty one holds nothing
// a job could leave for the next: loopback sockets live in it, but a job cannot keep one past its end because
// every process of the job dies with its PID namespace.
#pragma once

#include <sched.h>

#include <functional>

#include "common/error.h"
#include "common/unique_fd.h"
#include "sandbox/child_plan.h"

namespace hutch {

// No CLONE_NEWNS here: copying the host's mount table per job is wasted work. The job's init joins the root
// skeleton's mount namespace and unshares a copy of that instead (mounts.h).
inline constexpr unsigned long kSandboxNamespaceFlags = CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;

inline constexpr const char kSandboxHostname[] = "hutch";

// Parent side, once at start-up (blocking: forks a helper that unshares and brings loopback up). With a
// user namespace (user_namespace.h), the helper joins it first, so the network namespace belongs to it.
Result<UniqueFd> make_empty_network_namespace(int user_namespace_fd = -1);

// Runs `build` in a forked helper (which must leave the helper inside the new namespace and return 0 or an
// errno), then returns an fd of the helper's /proc/<pid>/ns/<kind>, which keeps the namespace alive after
// the helper exits. For start-up only: hutchd is single-threaded then, so `build` may use what the parent
// prepared, but it should make only system calls.
Result<UniqueFd> hold_namespace_built_by_helper(const char *kind, const std::function<int()> &build);

// Child side, async-signal-safe: run as init of the fresh namespaces, before forking the function.
// Gives the job its own mount namespace (a copy of the root skeleton, mounts.h, or without one a private
// copy of the host's with a fresh /proc), names the host `hutch` and joins its slot's empty network namespace.
// Returns the step that failed (errno says why), or ChildStage::kNone.
ChildStage enter_sandbox_namespaces(const ChildPlan &plan);

}  // namespace hutch
