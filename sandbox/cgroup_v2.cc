// cgroup v2: one hierarchy, so a fresh cgroup per job is cheap and gives exact per-job counters.
//
// The "no internal processes" rule forbids enabling controllers for children of a cgroup that holds
// processes. Like crun under systemd's Delegate=yes, the supervisor first moves itself into a leaf
// (<own>/supervisor) and then enables memory, cpu and pids in <own> and in <own>/hutch-<instance>. That works
// only in a cgroup hutchd has to itself: in a shared one (a login shell's, a plain unit's) it says so and
// moves nothing; and if a later step fails it moves itself back and removes the leaf, so that falling back
// to rlimits leaves the machine as it found it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <sstream>

#include "common/file_io.h"
#include "common/unique_fd.h"
#include "sandbox/cgroup.h"
#include "sandbox/cgroup_mounts.h"

namespace hutch {
namespace {

constexpr uint64_t kCpuPeriodMicroseconds = 100000;
const char *const kControllers[] = {"memory", "cpu", "pids"};

bool lists_word(const std::string &text, const std::string &word) {
  std::istringstream words(text);
  std::string item;
  while (words >> item) {
    if (item == word) return true;
  }
  return false;
}

Status enable_controllers(const std::string &dir) {
  TRY_ASSIGN(std::string enabled, read_file(dir + "/cgroup.subtree_control"));
  for (const char *controller : kControllers) {
    if (lists_word(enabled, controller)) continue;
    TRY_STATUS(write_file(dir + "/cgroup.subtree_control", std::string("+") + controller));
  }
  return {};
}

class JobCgroupV2 final : public JobCgroup {
 public:
  JobCgroupV2(std::string dir, UniqueFd directory, UniqueFd procs)
      : dir_(std::move(dir)), directory_(std::move(directory)), procs_(std::move(procs)) {
    procs_number_[0] = procs_.get();
  }
  ~JobCgroupV2() override {
    // Error paths only, on the event loop: one round that never waits. Nothing to report to; a directory
    // still busy stays for the supervisor's remove_all at shutdown.
    if (!released_) (void)cgroup_files::try_remove_tree(dir_);
  }
  std::span<const int> procs_fds() const override { return {procs_number_, 1}; }
  int directory_fd() const override { return directory_.get(); }
  Result<bool> kill_all() override {
    // cgroup.kill (5.14+) kills atomically, forks included; the listing loop is the fallback.
    if (::access((dir_ + "/cgroup.kill").c_str(), W_OK) == 0) {
      TRY_STATUS(write_file(dir_ + "/cgroup.kill", "1"));
      return is_empty();
    }
    return cgroup_files::kill_listed(dir_ + "/cgroup.procs");
  }
  Result<bool> is_empty() const override {
    TRY_ASSIGN(uint64_t populated, cgroup_files::read_keyed_u64(dir_ + "/cgroup.events", "populated"));
    return populated == 0;
  }
  Result<CgroupUsage> usage() const override {
    CgroupUsage usage;
    TRY_ASSIGN(uint64_t usage_usec, cgroup_files::read_keyed_u64(dir_ + "/cpu.stat", "usage_usec"));
    usage.cpu_time_ns = usage_usec * 1000;
    // memory.peak exists from 5.19; before it the current usage is the best this cgroup can tell.
    auto peak = cgroup_files::read_u64(dir_ + "/memory.peak");
    if (peak) {
      usage.memory_peak_bytes = *peak;
    } else {
      TRY_ASSIGN(usage.memory_peak_bytes, cgroup_files::read_u64(dir_ + "/memory.current"));
    }
    TRY_ASSIGN(usage.oom_kills, cgroup_files::read_keyed_u64(dir_ + "/memory.events", "oom_kill"));
    return usage;
  }
  Status release() override {
    procs_.reset();
    directory_.reset();
    if (::rmdir(dir_.c_str()) != 0 && errno != ENOENT) return fail(errno_error("rmdir('" + dir_ + "')"));
    released_ = true;
    return {};
  }

 private:
  std::string dir_;
  UniqueFd directory_;
  UniqueFd procs_;
  int procs_number_[1];
  bool released_ = false;
};

class CgroupManagerV2 final : public CgroupManager {
 public:
  explicit CgroupManagerV2(std::string base) : base_(std::move(base)) {}
  CgroupVersion version() const override { return CgroupVersion::kV2; }
  std::string describe() const override { return "cgroup v2 (memory, cpu, pids) under " + base_; }
  Result<std::unique_ptr<JobCgroup>> open_job(int, const std::string &job_name,
                                              const CgroupLimits &limits) override {
    std::string dir = base_ + "/" + sanitize_cgroup_name(job_name);
    TRY_STATUS(cgroup_files::make_directory(dir));
    auto job = write_limits(dir, limits);
    if (!job) {
      (void)cgroup_files::try_remove_tree(dir);  // empty, just made; the error below is the one worth reporting
      return fail(job.error().context("cgroup v2"));
    }
    return job;
  }
  std::span<const int> slot_procs_fds(int) const override { return {}; }
  void set_resident(int, pid_t) override {}
  Status remove_all() override { return cgroup_files::remove_tree(base_); }

 private:
  Result<std::unique_ptr<JobCgroup>> write_limits(const std::string &dir, const CgroupLimits &limits) {
    TRY_STATUS(write_file(dir + "/memory.max", std::to_string(limits.memory_bytes)));
    if (::access((dir + "/memory.swap.max").c_str(), W_OK) == 0) TRY_STATUS(write_file(dir + "/memory.swap.max", "0"));
    auto quota = static_cast<uint64_t>(std::llround(limits.cpu_cores * kCpuPeriodMicroseconds));
    TRY_STATUS(write_file(dir + "/cpu.max", std::to_string(quota) + " " + std::to_string(kCpuPeriodMicroseconds)));
    TRY_STATUS(write_file(dir + "/pids.max", std::to_string(limits.pids_max)));
    UniqueFd directory(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!directory) return fail(errno_error("open('" + dir + "')"));
    UniqueFd procs(::open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
    if (!procs) return fail(errno_error("open('" + dir + "/cgroup.procs')"));
    return std::unique_ptr<JobCgroup>(std::make_unique<JobCgroupV2>(dir, std::move(directory), std::move(procs)));
  }

  std::string base_;
};

// hutchd's move into <own>/supervisor, undone on destruction unless kept: the manager's set-up either
// completes or leaves hutchd where it was, with no stray leaf.
class LeafMove {
 public:
  LeafMove(std::string own, std::string leaf) : own_(std::move(own)), leaf_(std::move(leaf)) {}
  LeafMove(const LeafMove &) = delete;
  LeafMove &operator=(const LeafMove &) = delete;
  ~LeafMove() {
    if (!moved_ || kept_) return;
    // Best effort on a path that already failed: the error being returned is the one worth reporting.
    (void)write_file(own_ + "/cgroup.procs", std::to_string(::getpid()));
    if (made_leaf_) ::rmdir(leaf_.c_str());
  }
  Status move() {
    if (::mkdir(leaf_.c_str(), 0755) == 0) made_leaf_ = true;
    else if (errno != EEXIST) return fail(errno_error("mkdir('" + leaf_ + "')"));
    TRY_STATUS(write_file(leaf_ + "/cgroup.procs", std::to_string(::getpid())));
    moved_ = true;
    return {};
  }
  void keep() { kept_ = true; }

 private:
  std::string own_, leaf_;
  bool made_leaf_ = false, moved_ = false, kept_ = false;
};

}  // namespace

Result<std::vector<std::string>> cgroup_v2_other_processes(const std::string &cgroup_directory) {
  TRY_ASSIGN(std::vector<pid_t> pids, cgroup_files::read_pids(cgroup_directory + "/cgroup.procs"));
  std::vector<std::string> others;
  for (pid_t pid : pids) {
    if (pid == ::getpid()) continue;
    auto name = read_file("/proc/" + std::to_string(pid) + "/comm", 64);
    std::string comm = name ? *name : std::string("?");
    while (!comm.empty() && comm.back() == '\n') comm.pop_back();
    others.push_back(std::to_string(pid) + " (" + comm + ")");
  }
  return others;
}

bool cgroup_v2_holds_the_controllers() {
  auto mounts = read_cgroup_mounts();
  if (!mounts) return false;
  for (const CgroupMount &mount : *mounts) {
    if (!mount.is_v2) continue;
    auto available = read_file(mount.mount_point + "/cgroup.controllers");
    if (!available) continue;
    bool all = true;
    for (const char *controller : kControllers) all = all && lists_word(*available, controller);
    if (all) return true;
  }
  return false;
}

std::string cgroup_v2_shared_problem(const std::string &cgroup_directory, const std::vector<std::string> &others) {
  constexpr size_t kMostNamed = 5;
  std::string named;
  for (size_t i = 0; i < others.size() && i < kMostNamed; ++i) named += (i == 0 ? "" : ", ") + others[i];
  if (others.size() > kMostNamed) named += ", ...";
  return "hutchd's cgroup '" + cgroup_directory + "' also holds " + std::to_string(others.size()) + " other process" +
         (others.size() == 1 ? "" : "es") + " (" + named +
         "), and cgroup v2 enables no controllers beneath a cgroup with processes in it";
}

Result<std::unique_ptr<CgroupManager>> make_cgroup_v2_manager(const std::string &instance, int) {
  TRY_ASSIGN(std::vector<CgroupMount> mounts, read_cgroup_mounts());
  const CgroupMount *unified = nullptr;
  for (const CgroupMount &mount : mounts) {
    if (mount.is_v2) unified = &mount;
  }
  if (unified == nullptr) return fail(make_error("cgroup v2: not mounted"));
  TRY_ASSIGN(std::string own_path, cgroup_files::own_cgroup_path(""));
  std::string own = cgroup_directory(*unified, own_path);
  TRY_ASSIGN(std::string available, read_file(own + "/cgroup.controllers"));
  for (const char *controller : kControllers) {
    if (!lists_word(available, controller))
      return fail(make_error("cgroup v2: the " + std::string(controller) + " controller is not available in '" +
                             own + "' (with systemd, set Delegate=yes on the unit)"));
  }
  // Delegation (systemd's Delegate=yes) hands the cgroup's own cgroup.procs and cgroup.subtree_control to
  // its user: without write access to both, nothing below would work, so say that rather than fail later.
  for (const char *file : {"cgroup.procs", "cgroup.subtree_control"}) {
    std::string path = own + "/" + file;
    if (::access(path.c_str(), W_OK) != 0)
      return fail(errno_error("cgroup v2: '" + own + "' is not delegated to uid " + std::to_string(::geteuid()) +
                              " (" + kCgroupV2DelegationFix + "): access('" + path + "', W_OK)"));
  }
  // Only the root cgroup may hold processes and delegate controllers at once; any other must be hutchd's alone.
  LeafMove move(own, own + "/supervisor");
  if (own_path != "/") {
    TRY_ASSIGN(std::vector<std::string> others, cgroup_v2_other_processes(own));
    if (!others.empty()) return fail(make_error("cgroup v2: " + cgroup_v2_shared_problem(own, others)));
    TRY_STATUS(move.move());
  }
  TRY_STATUS(enable_controllers(own));
  std::string base = own + "/hutch-" + sanitize_cgroup_name(instance);
  TRY_STATUS(cgroup_files::remove_tree(base));
  TRY_STATUS(cgroup_files::make_directory(base));
  TRY_STATUS(enable_controllers(base));
  move.keep();
  return std::unique_ptr<CgroupManager>(std::make_unique<CgroupManagerV2>(base));
}

Result<std::unique_ptr<CgroupManager>> CgroupManager::detect(const std::string &instance, int slot_count) {
  auto v2 = make_cgroup_v2_manager(instance, slot_count);
  if (v2) return v2;
  auto v1 = make_cgroup_v1_manager(instance, slot_count);
  if (v1) return v1;
  return fail(make_error(v2.error().message + "; " + v1.error().message));
}

}  // namespace hutch
