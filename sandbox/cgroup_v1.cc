// cgroup v1: one hierarchy per controller. Each concurrency slot owns one pooled cgroup per hierarchy
// (<own cgroup>/hutch-<instance>/slot-<n>), created once; a job only rewrites limits that changed and
// resets the peak and CPU counters. A fresh cgroup per job would cost ~5 mkdir/rmdir pairs per job.
//
// TCP buffers: v1 counts a socket's buffers against its cgroup only once that cgroup's
// memory.kmem.tcp.limit_in_bytes has been written (the first write turns the accounting on for sockets made
// from then on; it cannot be turned off again), and then on a counter of their own, not in
// memory.limit_in_bytes. So each slot's TCP limit is set to the job's memory limit before the job runs: a
// job holds at most its memory limit in TCP buffers, beside its memory. Linux 6.x logs once that the file is
// deprecated; a kernel without it leaves v1 jobs' TCP buffers uncounted (describe() says so). v2 needs
// none of this: socket memory is part of memory.current and bounded by memory.max.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <map>

#include "common/file_io.h"
#include "common/unique_fd.h"
#include "sandbox/cgroup.h"
#include "sandbox/cgroup_mounts.h"

namespace hutch {
namespace {

constexpr uint64_t kCpuPeriodMicroseconds = 100000;

struct Slot {
  std::string memory_dir, cpu_dir, pids_dir, cpuacct_dir;  // cpuacct_dir empty when not mounted
  std::vector<UniqueFd> procs_files;                     // one per distinct hierarchy
  std::vector<int> procs_fd_numbers;
  CgroupLimits applied{};                                // what the files hold now
  bool limits_known = false;
  uint64_t applied_tcp_bytes = 0;                        // memory.kmem.tcp.limit_in_bytes; 0: not written yet
  uint64_t oom_kills_before = 0;
  // Counter files read or reset on every job, kept open (pread/pwrite) rather than opened per job.
  // Not cgroup.procs: v1 caches its pid list per open file (cgroup_pidlist), so a kept fd reads stale pids.
  UniqueFd max_usage, oom_control, cpuacct_usage;
  bool in_use = false;
  pid_t resident = 0;  // the slot's spawner: spared by kill_all, not counted by is_empty
};

class JobCgroupV1;

class CgroupManagerV1 final : public CgroupManager {
 public:
  CgroupManagerV1(std::map<std::string, std::string> bases, int slot_count)
      : bases_(std::move(bases)), slots_(static_cast<size_t>(slot_count)) {}

  Status create_slots();
  CgroupVersion version() const override { return CgroupVersion::kV1; }
  std::string describe() const override {
    std::string names;
    for (const auto &[controller, base] : bases_) names += (names.empty() ? "" : ", ") + controller;
    std::string tcp = tcp_accounting_ ? "" : "; this kernel has no memory.kmem.tcp.limit_in_bytes, so jobs' TCP "
                                             "buffers are not counted against their memory (cgroup v2 counts them)";
    return "cgroup v1 (" + names + ") under " + bases_.at("memory") + tcp;
  }
  Result<std::unique_ptr<JobCgroup>> open_job(int slot, const std::string &job_name,
                                              const CgroupLimits &limits) override;
  std::span<const int> slot_procs_fds(int slot) const override {
    if (slot < 0 || static_cast<size_t>(slot) >= slots_.size()) return {};
    return slots_[static_cast<size_t>(slot)].procs_fd_numbers;
  }
  void set_resident(int slot, pid_t pid) override {
    Slot &target = slots_.at(static_cast<size_t>(slot));
    target.resident = pid;
    target.limits_known = false;  // pids.max must now leave room for it
  }
  Status remove_all() override {
    slots_.clear();  // closes the procs fds before the directories go
    for (const auto &[controller, base] : bases_) TRY_STATUS(cgroup_files::remove_tree(base));
    return {};
  }

 private:
  friend class JobCgroupV1;
  Status apply_limits(Slot &slot, const CgroupLimits &limits);
  Status apply_tcp_limit(Slot &slot, uint64_t bytes);

  std::map<std::string, std::string> bases_;  // controller -> <hierarchy>/<own>/hutch-<instance>
  std::vector<Slot> slots_;
  bool tcp_accounting_ = false;  // the kernel has memory.kmem.tcp.limit_in_bytes
};

class JobCgroupV1 final : public JobCgroup {
 public:
  explicit JobCgroupV1(Slot &slot) : slot_(slot) {}
  ~JobCgroupV1() override {
    // A job object dropped without release() (error paths): leave the slot clean for the next job.
    if (slot_.in_use) {
      for (int round = 0; round < 100; ++round) {
        auto empty = kill_all();
        if (!empty || *empty) break;
      }
      slot_.in_use = false;
    }
  }
  std::span<const int> procs_fds() const override { return slot_.procs_fd_numbers; }
  int directory_fd() const override { return -1; }
  Result<bool> kill_all() override {
    TRY_ASSIGN(std::vector<pid_t> pids, listed_pids());
    bool none = true;
    for (pid_t pid : pids) {
      if (pid == slot_.resident) continue;
      none = false;
      ::kill(pid, SIGKILL);  // ESRCH: it died meanwhile, which is the goal
    }
    seen_empty_ = none;
    return none;
  }
  Result<bool> is_empty() const override {
    TRY_ASSIGN(std::vector<pid_t> pids, listed_pids());
    for (pid_t pid : pids) {
      if (pid != slot_.resident) return false;
    }
    return true;
  }
  Result<CgroupUsage> usage() const override {
    CgroupUsage usage;
    TRY_ASSIGN(usage.memory_peak_bytes, read_counter(slot_.max_usage, "memory.max_usage_in_bytes"));
    TRY_ASSIGN(std::string oom, cgroup_files::read_open_file(slot_.oom_control.get(), "memory.oom_control"));
    TRY_ASSIGN(uint64_t oom_kills, cgroup_files::parse_keyed_u64(oom, "oom_kill", "memory.oom_control"));
    usage.oom_kills = oom_kills - slot_.oom_kills_before;
    if (slot_.cpuacct_usage) {
      TRY_ASSIGN(usage.cpu_time_ns, read_counter(slot_.cpuacct_usage, "cpuacct.usage"));
    }
    return usage;
  }
  Result<std::vector<pid_t>> listed_pids() const {
    return cgroup_files::read_pids(slot_.memory_dir + "/cgroup.procs");
  }
  static Result<uint64_t> read_counter(const UniqueFd &fd, const std::string &what) {
    TRY_ASSIGN(std::string text, cgroup_files::read_open_file(fd.get(), what));
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc()) return fail(make_error("'" + what + "' holds '" + text + "', not a number"));
    return value;
  }
  Status release() override {
    // Once kill_all found the slot empty nothing can enter it again until it is handed out anew (the
    // spawner forks only on hutchd's request), so the finishing sweep's answer stands; no second read.
    if (!seen_empty_) {
      TRY_ASSIGN(bool empty, is_empty());
      if (!empty) return fail(errno_error(EBUSY, "release cgroup '" + slot_.memory_dir + "'"));
    }
    slot_.in_use = false;
    return {};
  }

 private:
  Slot &slot_;
  bool seen_empty_ = false;
};

Status open_counter(UniqueFd &fd, const std::string &path, int mode) {
  fd.reset(::open(path.c_str(), mode | O_CLOEXEC));
  if (!fd) return fail(errno_error("open('" + path + "')"));
  return {};
}

Status CgroupManagerV1::create_slots() {
  for (const auto &[controller, base] : bases_) {
    // Leftovers of an earlier run under the same name would hold stale limits and maybe processes.
    TRY_STATUS(cgroup_files::remove_tree(base));
    TRY_STATUS(cgroup_files::make_directory(base));
  }
  for (size_t index = 0; index < slots_.size(); ++index) {
    Slot &slot = slots_[index];
    std::string name = "/slot-" + std::to_string(index);
    std::map<std::string, bool> opened;  // hierarchy directory -> procs fd opened (cpu,cpuacct may share one)
    for (const auto &[controller, base] : bases_) {
      std::string dir = base + name;
      TRY_STATUS(cgroup_files::make_directory(dir));
      if (controller == "memory") slot.memory_dir = dir;
      if (controller == "cpu") slot.cpu_dir = dir;
      if (controller == "pids") slot.pids_dir = dir;
      if (controller == "cpuacct") slot.cpuacct_dir = dir;
      if (controller == "memory") {
        TRY_STATUS(open_counter(slot.max_usage, dir + "/memory.max_usage_in_bytes", O_RDWR));
        TRY_STATUS(open_counter(slot.oom_control, dir + "/memory.oom_control", O_RDONLY));
        tcp_accounting_ = ::access((dir + "/memory.kmem.tcp.limit_in_bytes").c_str(), W_OK) == 0;
      }
      if (controller == "cpuacct") TRY_STATUS(open_counter(slot.cpuacct_usage, dir + "/cpuacct.usage", O_RDWR));
      if (opened[dir]) continue;
      opened[dir] = true;
      UniqueFd procs(::open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
      if (!procs) return fail(errno_error("open('" + dir + "/cgroup.procs')"));
      slot.procs_fd_numbers.push_back(procs.get());
      slot.procs_files.push_back(std::move(procs));
    }
  }
  return {};
}

Status CgroupManagerV1::apply_limits(Slot &slot, const CgroupLimits &limits) {
  if (!slot.limits_known || slot.applied.memory_bytes != limits.memory_bytes) {
    TRY_STATUS(write_file(slot.memory_dir + "/memory.limit_in_bytes", std::to_string(limits.memory_bytes)));
  }
  if (tcp_accounting_ && slot.applied_tcp_bytes != limits.memory_bytes) TRY_STATUS(apply_tcp_limit(slot, limits.memory_bytes));
  if (!slot.limits_known || slot.applied.cpu_cores != limits.cpu_cores) {
    auto quota = static_cast<uint64_t>(std::llround(limits.cpu_cores * kCpuPeriodMicroseconds));
    if (!slot.limits_known) {
      TRY_STATUS(write_file(slot.cpu_dir + "/cpu.cfs_period_us", std::to_string(kCpuPeriodMicroseconds)));
    }
    TRY_STATUS(write_file(slot.cpu_dir + "/cpu.cfs_quota_us", std::to_string(quota)));
  }
  if (!slot.limits_known || slot.applied.pids_max != limits.pids_max) {
    uint32_t resident = slot.resident > 0 ? 1 : 0;
    TRY_STATUS(write_file(slot.pids_dir + "/pids.max", std::to_string(limits.pids_max + resident)));
  }
  slot.applied = limits;
  slot.limits_known = true;
  return {};
}

// The kernel refuses (EBUSY) a TCP limit below what the slot's sockets hold now: buffers of the previous
// job's connections that are still closing (the slot's network namespace outlives its jobs). The previous,
// larger limit then stays, which still bounds this job, and the next job tries again.
Status CgroupManagerV1::apply_tcp_limit(Slot &slot, uint64_t bytes) {
  Status written = write_file(slot.memory_dir + "/memory.kmem.tcp.limit_in_bytes", std::to_string(bytes));
  if (!written && written.error().errno_value == EBUSY && slot.applied_tcp_bytes != 0) return {};
  if (!written) return written;
  slot.applied_tcp_bytes = bytes;
  return {};
}

Result<std::unique_ptr<JobCgroup>> CgroupManagerV1::open_job(int slot_index, const std::string &,
                                                             const CgroupLimits &limits) {
  if (slot_index < 0 || static_cast<size_t>(slot_index) >= slots_.size())
    return fail(make_error("cgroup v1: no slot " + std::to_string(slot_index)));
  Slot &slot = slots_[static_cast<size_t>(slot_index)];
  if (slot.in_use) return fail(errno_error(EBUSY, "cgroup v1: slot " + std::to_string(slot_index)));
  auto applied = apply_limits(slot, limits);
  if (!applied) return fail(applied.error().context("cgroup v1"));
  // Per-job counters: the peak and CPU time restart from now; oom kills are counted from a baseline.
  TRY_STATUS(cgroup_files::write_open_file(slot.max_usage.get(), "0", "memory.max_usage_in_bytes"));
  if (slot.cpuacct_usage) TRY_STATUS(cgroup_files::write_open_file(slot.cpuacct_usage.get(), "0", "cpuacct.usage"));
  TRY_ASSIGN(std::string oom, cgroup_files::read_open_file(slot.oom_control.get(), "memory.oom_control"));
  TRY_ASSIGN(slot.oom_kills_before, cgroup_files::parse_keyed_u64(oom, "oom_kill", "memory.oom_control"));
  slot.in_use = true;
  return std::make_unique<JobCgroupV1>(slot);
}

}  // namespace

Result<std::unique_ptr<CgroupManager>> make_cgroup_v1_manager(const std::string &instance, int slot_count) {
  TRY_ASSIGN(std::vector<CgroupMount> mounts, read_cgroup_mounts());
  std::map<std::string, std::string> bases;
  std::string missing;
  for (const std::string controller : {"memory", "cpu", "pids", "cpuacct"}) {
    const CgroupMount *found = nullptr;
    for (const CgroupMount &mount : mounts) {
      for (const std::string &name : mount.controllers) {
        if (name == controller) found = &mount;
      }
    }
    bool required = controller != std::string("cpuacct");
    if (found == nullptr) {
      if (required) missing += (missing.empty() ? "" : ", ") + controller;
      continue;
    }
    auto own = cgroup_files::own_cgroup_path(controller);
    if (!own) {
      if (required) missing += (missing.empty() ? "" : ", ") + controller;
      continue;
    }
    bases[controller] = cgroup_directory(*found, *own) + "/hutch-" + sanitize_cgroup_name(instance);
  }
  if (!missing.empty()) return fail(make_error("cgroup v1: no " + missing + " hierarchy is mounted"));
  auto manager = std::make_unique<CgroupManagerV1>(std::move(bases), slot_count);
  auto created = manager->create_slots();
  if (!created) return fail(created.error().context("cgroup v1"));
  return std::unique_ptr<CgroupManager>(std::move(manager));
}

}  // namespace hutch
