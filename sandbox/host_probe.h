// What this machine offers a sandbox: identity, cgroups, namespaces, seccomp, filesystems, the audit log and
// the helper programs. `hutchd --check` and `hutch doctor` (supervisor/doctor.cc) turn these findings into
// lines; nothing here prints.
//
// The probes only look, except where looking is not enough to know: a test cgroup is made and removed
// beneath the caller's own cgroup (mkdir is the permission check delegation actually grants), and each
// namespace is tried by unshare() in a forked child that exits at once. Every probe is bounded in time and
// leaves nothing behind. No Redis, no event loop.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace hutch {

struct HostProbeOptions {
  uint32_t uid_base = 60000;  // the sandbox uids are uid_base .. uid_base + concurrency - 1
  int concurrency = 1;
  std::string hutch_fn_path;
  std::string spawner_path;
};

// Someone already using a uid of the sandbox range.
struct UidUser {
  uint32_t uid = 0;
  std::string who;  // "process 812 (sshd)" or "/etc/passwd entry 'backup'"
};

struct IdentityFindings {
  uid_t effective_uid = 0;
  gid_t effective_gid = 0;
  std::vector<gid_t> supplementary_groups;  // getgroups(): what jobs in a user namespace would keep
  uint32_t uid_first = 0;
  uint32_t uid_last = 0;
  std::vector<UidUser> uid_users;
  Status passwd_read;  // /etc/passwd could not be read: the range was checked against processes only
};

// One hierarchy hutch would make its cgroups in.
struct CgroupHierarchy {
  std::string controller;  // "memory", "cpu", "pids", "cpuacct"; empty for the v2 hierarchy
  std::string own_path;    // this process's cgroup there, from /proc/self/cgroup: "/system.slice/hutchd"
  std::string directory;   // where that cgroup is mounted: /sys/fs/cgroup/memory/system.slice/hutchd
  Status child_created;    // mkdir + rmdir of a test cgroup beneath `directory`
};

struct CgroupVersionFindings {
  std::vector<std::string> controllers;  // v1: every mounted controller; v2: the own cgroup's cgroup.controllers
  bool has_required = false;             // memory, cpu and pids are all among them
  std::string problem;                   // why not, as a sentence; empty when has_required
  std::vector<CgroupHierarchy> hierarchies;  // probed only when has_required
  // v2 only, probed when has_required: the processes beside this one in its own cgroup ("812 (bash)"), and
  // whether its cgroup.procs and cgroup.subtree_control are writable. cgroup v2 enables no controllers
  // beneath a cgroup that holds processes, so hutchd needs its cgroup to itself, delegated to its user.
  std::vector<std::string> other_processes;
  Status own_cgroup_writable;
  // has_required, every test cgroup could be made, and (v2) the own cgroup is hutchd's alone and writable
  bool delegated() const;
};

enum class LimitsMechanism { kCgroupV2, kCgroupV1, kRlimit };

struct CgroupFindings {
  CgroupVersionFindings v2;
  CgroupVersionFindings v1;
  // What hutchd would use, in the order CgroupManager::detect tries: v2, then v1, then rlimits.
  LimitsMechanism mechanism = LimitsMechanism::kRlimit;
};

struct NamespaceProbe {
  std::string name;  // "pid", "mount", "net", "ipc", "uts", "cgroup", "user"
  int clone_flag = 0;
  Status created;    // unshare() in a forked child
};

struct NamespaceFindings {
  // Not root: each namespace is tried inside a fresh user namespace, as hutchd would make it (the "user"
  // probe alone says whether that namespace itself can be made).
  bool inside_user_namespace = false;
  std::vector<NamespaceProbe> probes;
  std::optional<long> max_user_namespaces;        // /proc/sys/user/max_user_namespaces
  std::optional<long> unprivileged_userns_clone;  // kernel.unprivileged_userns_clone (Debian's patch), if present
};

struct SeccompFindings {
  Status available;    // prctl(PR_GET_SECCOMP) works
  int current_mode = 0;                     // what it returned: 0 none, 2 already under a filter
  std::vector<std::string> actions_avail;   // /proc/sys/kernel/seccomp/actions_avail
  Status actions_read;
  std::string libseccomp_version;           // "2.5.4"
  bool can_kill_process() const;
};

struct FilesystemFindings {
  Status read;  // /proc/filesystems
  bool tmpfs = false;
  bool overlay = false;
};

struct HelperProgram {
  std::string name;  // "hutch-fn"
  std::string path;
  Status executable;
};

struct HostFindings {
  IdentityFindings identity;
  CgroupFindings cgroups;
  NamespaceFindings namespaces;
  SeccompFindings seccomp;
  FilesystemFindings filesystems;
  Status kmsg_readable;  // /dev/kmsg, where hutchd finds the syscall of a seccomp kill
  std::vector<HelperProgram> helpers;
};

// The whole probe. Takes a few milliseconds (one fork per namespace); bounded at a few seconds in the worst case.
HostFindings probe_host(const HostProbeOptions &options);

// The parts, one per facility (host_probe_cgroups.cc, host_probe_namespaces.cc, host_probe.cc).
IdentityFindings probe_identity(uint32_t uid_base, int concurrency);
CgroupFindings probe_cgroups();
NamespaceFindings probe_namespaces();
SeccompFindings probe_seccomp();

}  // namespace hutch
