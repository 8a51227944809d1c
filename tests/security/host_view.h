// What the host looks like from outside the sandbox, for the after-checks of the adversarial suite: how
// many processes run, which run as a given uid, which processes sit in a hutchd's job cgroups, free disk
// space, the address of the default route. Read straight from /proc, /sys and statvfs, never through
// hutch's own code, so a bug there cannot hide itself.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hutch::test {

// Numeric entries of /proc: every process on the host (the test runs in the host's PID namespace).
int count_host_processes();

// Host pids of live (non-zombie) processes whose real uid is in [first_uid, first_uid + count).
std::vector<int> processes_with_uid(uid_t first_uid, int count);

// The real uid of a process, or nullopt when it is gone.
std::optional<uid_t> uid_of(int pid);
// The target of /proc/<pid>/exe, or "" when it cannot be read.
std::string executable_of(int pid);

// The cgroup.procs files of every cgroup below hutchd's hutch-<consumer> directory (its slots and their
// jobs), in the pids hierarchy under cgroup v1 or the unified one under v2. Empty when none is found.
std::vector<std::string> job_cgroup_procs_files(pid_t hutchd_pid, const std::string &consumer);
std::vector<int> pids_in(const std::string &cgroup_procs_file);

// Bytes available to an unprivileged user on the filesystem holding `path`, or nullopt.
std::optional<uint64_t> available_bytes(const std::string &path);

// The IPv4 address of the interface the default route goes through ("192.0.2.2"), or nullopt when this
// host has no default route or that interface has no IPv4 address.
std::optional<std::string> default_route_ipv4();

}  // namespace hutch::test
