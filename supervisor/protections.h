// The protections a hutchd without root (or without cgroups) cannot give its jobs, each as one sentence with
// its cost and its fix. hutchd logs them at start-up, one line each, and `hutchd --check` / `hutch doctor`
// print the same sentences, so the operator reads one story wherever they look. Pure: no probing here.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hutch {

struct MissingProtection {
  std::string item;     // "not root", "no cgroup delegation", "user namespaces unavailable (...)"
  std::string problem;  // what is missing and what it costs the jobs
  std::string fix;      // what the operator can do about it
};

// "item: problem — fix", hutchd's start-up line.
std::string describe_missing(const MissingProtection &missing);

// Not root, with a user namespace: every job is one uid.
MissingProtection shared_uid_in_user_namespace(uid_t outside_uid, uint32_t inside_uid);
// Not root, without one: every job is hutchd's own uid in hutchd's own namespaces.
MissingProtection shared_uid_without_namespaces(uid_t uid);
// No cgroup hutchd may use. `why` is the detection's sentence; the fix: on a host whose controllers are on
// cgroup v2 (`cgroup_v2_host`), a cgroup of its own with delegation; elsewhere a root hutchd lacks the
// controllers, a non-root one lacks delegation.
MissingProtection no_cgroup_limits(const std::string &why, bool root, bool cgroup_v2_host = false);
// Not root and no user namespace could be made. `cause` names the switch when known
// ("sysctl user.max_user_namespaces=0"), else the failed call.
MissingProtection no_user_namespaces(const std::string &cause);
// Not root: what the jobs keep of hutchd's supplementary groups (those other than its gid), or nothing.
std::optional<MissingProtection> kept_supplementary_groups(const std::vector<gid_t> &groups, gid_t own_gid);

// Why user namespaces are unavailable, from the kernel's switches (absent: nullopt) and the failed call's
// sentence: the switch that is off when one is, else the sentence.
std::string user_namespace_cause(std::optional<long> max_user_namespaces, std::optional<long> unprivileged_userns_clone,
                                 const std::string &failure);

}  // namespace hutch
