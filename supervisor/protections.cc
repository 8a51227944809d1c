#include "supervisor/protections.h"

#include "sandbox/cgroup.h"

namespace hutch {

std::string describe_missing(const MissingProtection &missing) {
  return missing.item + ": " + missing.problem + " — " + missing.fix;
}

MissingProtection shared_uid_in_user_namespace(uid_t outside_uid, uint32_t inside_uid) {
  return {"not root",
          "every job runs as one uid (" + std::to_string(outside_uid) + " outside, " + std::to_string(inside_uid) +
              " inside its user namespace); two jobs running at once share that uid and its per-uid kernel limits "
              "(processes, inotify instances, pipe buffers), though their namespaces keep them from seeing or "
              "signalling each other",
          "run hutchd as root for per-job uids"};
}

MissingProtection shared_uid_without_namespaces(uid_t uid) {
  return {"not root",
          "every job runs as hutchd's own uid " + std::to_string(uid) +
              " in hutchd's namespaces: it can signal hutchd and other jobs, see the host's processes and files, "
              "and reach the network, Redis included",
          "allow user namespaces, or run hutchd as root"};
}

MissingProtection no_cgroup_limits(const std::string &why, bool root, bool cgroup_v2_host) {
  std::string fix = cgroup_v2_host ? kCgroupV2DelegationFix
                    : root ? "mount the memory, cpu and pids controllers (cgroup v2, or one v1 hierarchy each)"
                           : "run under systemd with Delegate=yes on a cgroup v2 host, or give hutchd's user a cgroup "
                             "of its own in the memory, cpu and pids v1 hierarchies and start hutchd in it";
  return {root ? "no usable cgroup" : "no cgroup delegation",
          "memory/cpu/pids limits fall back to rlimits (memory is address space, so allocations fail and there is "
          "no oom status; cpu is total cpu time, not a share of the cores; pids is per-uid, shared by every job), "
          "because " + why,
          fix};
}

MissingProtection no_user_namespaces(const std::string &cause) {
  return {"user namespaces unavailable (" + cause + ")",
          "no namespaces at all: jobs share hutchd's PID, mount, network, IPC and UTS namespaces and the host's "
          "filesystem",
          "sysctl user.max_user_namespaces=10000 (and kernel.unprivileged_userns_clone=1 where the kernel has it), "
          "or run hutchd as root"};
}

std::optional<MissingProtection> kept_supplementary_groups(const std::vector<gid_t> &groups, gid_t own_gid) {
  std::string listed;
  for (gid_t group : groups) {
    if (group != own_gid) listed += (listed.empty() ? "" : ", ") + std::to_string(group);
  }
  if (listed.empty()) return std::nullopt;
  return MissingProtection{"supplementary groups",
                           "every job keeps hutchd's groups " + listed +
                               " (a user namespace cannot drop them: setgroups is denied there), with whatever "
                               "files those groups may read or write",
                           "run hutchd as a user without supplementary groups"};
}

std::string user_namespace_cause(std::optional<long> max_user_namespaces, std::optional<long> unprivileged_userns_clone,
                                 const std::string &failure) {
  if (max_user_namespaces == 0) return "sysctl user.max_user_namespaces=0";
  if (unprivileged_userns_clone == 0) return "sysctl kernel.unprivileged_userns_clone=0";
  return failure;
}

}  // namespace hutch
