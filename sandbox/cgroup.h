// Resource limits of a job through cgroups, behind one interface with a v1 and a v2 implementation.
//
// Job cgroups live beneath the supervisor's own cgroup (read from /proc/self/cgroup), never at a hierarchy's
// root: that is what systemd's Delegate= hands over, and it keeps the host's own accounting intact.
//
// v1 (this machine kind): one directory per controller hierarchy, so a fresh cgroup per job would cost five
// mkdirs, five rmdirs and a dozen writes. Instead each concurrency slot owns a pooled cgroup whose limits are
// rewritten only when they change and whose counters are reset or read as baselines per job.
// v2: one directory; a fresh one per job is cheap and gives exact per-job counters (memory.peak).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"

namespace hutch {

enum class CgroupVersion { kV1, kV2 };

struct CgroupLimits {
  uint64_t memory_bytes = 0;
  double cpu_cores = 1.0;
  uint32_t pids_max = 256;
};

struct CgroupUsage {
  uint64_t cpu_time_ns = 0;
  uint64_t memory_peak_bytes = 0;
  uint64_t oom_kills = 0;  // processes the kernel killed for this job's memory limit
};

// The cgroup of one running job.
class JobCgroup {
 public:
  virtual ~JobCgroup() = default;
  // cgroup.procs files the child writes "0" to (one per v1 hierarchy, one on v2). Owned by this object.
  virtual std::span<const int> procs_fds() const = 0;
  // v2: the cgroup's directory, for clone3(CLONE_INTO_CGROUP), which starts the child in it: no migration,
  // and the child's new cgroup namespace is rooted at the job's cgroup. -1 on v1 (one cgroup per hierarchy,
  // which clone3 cannot name). Owned by this object.
  virtual int directory_fd() const = 0;
  // SIGKILLs every process in the cgroup; true when none is left. Call again until true (bounded).
  virtual Result<bool> kill_all() = 0;
  virtual Result<bool> is_empty() const = 0;
  // Counters of this job alone.
  virtual Result<CgroupUsage> usage() const = 0;
  // Gives the cgroup back (v1: to its slot's pool; v2: rmdir). Fails with EBUSY while processes remain.
  virtual Status release() = 0;
};

class CgroupManager {
 public:
  virtual ~CgroupManager() = default;

  // Finds cgroup v2 with the memory, cpu and pids controllers, else v1 with them, else an error that says
  // what is missing (the supervisor then falls back to rlimits and says so). `instance` names this
  // supervisor's subtree (sanitized consumer name); `slot_count` is the concurrency.
  static Result<std::unique_ptr<CgroupManager>> detect(const std::string &instance, int slot_count);

  virtual CgroupVersion version() const = 0;
  // "cgroup v1 (memory, cpu, cpuacct, pids, freezer) under /sys/fs/cgroup/memory/x/hutch-a"
  virtual std::string describe() const = 0;
  // The cgroup for a job on slot `slot` with these limits, ready for the child to join.
  virtual Result<std::unique_ptr<JobCgroup>> open_job(int slot, const std::string &job_name,
                                                      const CgroupLimits &limits) = 0;
  // Pooled slots only (v1): the slot's own cgroup.procs files, and a process that lives in the slot for
  // good (the slot's spawner). The resident is spared by kill_all, ignored by is_empty and gets one pid of
  // its own on top of the job's limit. Empty span: this version has no pooled slots.
  virtual std::span<const int> slot_procs_fds(int slot) const = 0;
  virtual void set_resident(int slot, pid_t pid) = 0;
  // Kills and removes everything this supervisor's subtree holds (start-up clean-up and shutdown).
  virtual Status remove_all() = 0;
};

// cgroup v2 enables no controllers beneath a cgroup that holds processes (the root cgroup aside), so hutchd
// needs a cgroup to itself: a systemd unit with Delegate=yes, or a scope. A login shell's or a plain unit's
// cgroup is shared. The processes in `cgroup_directory` other than this one, as "812 (bash)".
Result<std::vector<std::string>> cgroup_v2_other_processes(const std::string &cgroup_directory);
// "hutchd's cgroup '/sys/fs/cgroup/user.slice/.../session-3.scope' also holds 2 other processes (812 (bash),
// 813 (sleep)), and cgroup v2 enables no controllers beneath a cgroup with processes in it"
std::string cgroup_v2_shared_problem(const std::string &cgroup_directory, const std::vector<std::string> &others);
// True when a cgroup2 file system is mounted and memory, cpu and pids are among its controllers: a cgroup v2
// host, where the fix for missing limits is delegation, not mounting anything.
bool cgroup_v2_holds_the_controllers();
// What to do about it, and about a cgroup that is not delegated.
inline constexpr const char kCgroupV2DelegationFix[] =
    "start hutchd in a cgroup of its own, delegated to it: as a systemd unit with Delegate=yes (scripts/install "
    "sets up hutchd.service), or with systemd-run --scope -p Delegate=yes hutchd ... (scripts/run does that)";

// Implementations (cgroup_v1.cc, cgroup_v2.cc); detect() chooses.
Result<std::unique_ptr<CgroupManager>> make_cgroup_v1_manager(const std::string &instance, int slot_count);
Result<std::unique_ptr<CgroupManager>> make_cgroup_v2_manager(const std::string &instance, int slot_count);

// Shared helpers of both versions (cgroup_files.cc).
namespace cgroup_files {
Result<uint64_t> read_u64(const std::string &path);
// "key value" lines (memory.events, memory.oom_control, cpu.stat): the value of `key`, 0 when absent.
Result<uint64_t> read_keyed_u64(const std::string &path, const std::string &key);
Result<std::vector<pid_t>> read_pids(const std::string &procs_path);
// The same on a file kept open (pread/pwrite at offset 0: cgroupfs regenerates the content each time), for
// the counters a pooled slot reads on every job. `what` names the file in errors.
Result<std::string> read_open_file(int fd, const std::string &what);
Status write_open_file(int fd, const std::string &content, const std::string &what);
std::vector<pid_t> parse_pids(const std::string &text);
Result<uint64_t> parse_keyed_u64(const std::string &text, const std::string &key, const std::string &what);
// SIGKILLs every pid listed in procs_path but `spared`; true when no other pid was listed.
Result<bool> kill_listed(const std::string &procs_path, pid_t spared = 0);
// Removes a cgroup directory and its child cgroups, deepest first (only directories: cgroupfs has no files
// to unlink), killing what still runs in them. One round, never waiting: true when all is gone, false when a
// cgroup still holds processes that have not finished dying (call again later).
Result<bool> try_remove_tree(const std::string &path);
// The same, repeated until done: blocks up to a second. For start-up and shutdown, never on the event loop.
Status remove_tree(const std::string &path);
Status make_directory(const std::string &path);
// "0::/a/b" lines of /proc/self/cgroup: the path for the hierarchy with `controller` (v1) or the v2 line.
Result<std::string> own_cgroup_path(const std::string &controller_or_empty_for_v2);
}  // namespace cgroup_files

}  // namespace hutch
