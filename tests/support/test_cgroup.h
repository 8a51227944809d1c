// cgroups for the programs a test starts, and which cgroup version the host has, read without hutch's code.
//
// On a cgroup v2 host a process shares its cgroup with whatever started it, and cgroup v2 enables no
// controllers beneath a cgroup that holds processes: a hutchd started beside the test runner would fall back
// to rlimits. scripts/test (hutch_in_test_cgroup, scripts/lib.sh) therefore runs ctest in a delegated scope,
// in its leaf `runner`, with the controllers enabled in the scope and HUTCH_TEST_CGROUP naming it; each
// hutchd a test starts (and each `hutchd --check`) goes into a cgroup of its own beside the runner, as a
// systemd unit would give it. Without HUTCH_TEST_CGROUP (cgroup v1, or no systemd) nothing changes.
#pragma once

#include <string>
#include <vector>

namespace hutch::test {

// "v2" when /sys/fs/cgroup is a cgroup2 file system whose root lists the memory controller, "v1" when
// /sys/fs/cgroup/memory is a cgroup v1 hierarchy, else "" (statfs and the files themselves, not hutch's
// detection, so a test can check what hutchd chose).
std::string host_cgroup_version();

// With HUTCH_TEST_CGROUP: the cgroup.procs path of its child cgroup `name` (made if missing), to pass as
// ChildSetup::join_cgroup_procs. Without it: nothing. Never fails a test itself: a cgroup that cannot be
// made shows as the child's exit 126 (ChildSetup) with the reason on stderr.
std::vector<std::string> own_test_cgroup(const std::string &name);

// The directory of the test cgroup `name`, "" without HUTCH_TEST_CGROUP.
std::string test_cgroup_directory(const std::string &name);

// Removes what is left of the test cgroup `name` once its processes are gone: empty directories only,
// deepest first; one that still holds a process is left (and shows as a leftover elsewhere).
void remove_empty_test_cgroup(const std::string &name);

}  // namespace hutch::test
