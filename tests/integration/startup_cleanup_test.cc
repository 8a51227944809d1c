// No sandbox outlives its supervisor: a hutchd killed with SIGKILL takes its sandboxes with it (parent-death
// signal), the next hutchd on the machine removes the cgroups it left, and a second hutchd under a name
// that is in use refuses to start.
//
// Other supervisors run on the machine meanwhile (other tests, other checkouts): every assertion is about
// cgroups and lock files this test made, and the ones it makes to stand for a live owner or an owner without
// a lock file must survive the sweep.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>
#include <thread>

#include "common/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/cgroup_mounts.h"
#include "sandbox/cgroup_sweep.h"
#include "tests/support/hutch_test.h"
#include "tests/support/test_cgroup.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// The lock directory of a hutchd running as root (supervisor/instance_lock.h).
constexpr const char *kLockDirectory = "/run/hutch";

std::string lock_file(const std::string &instance) {
  return std::string(kLockDirectory) + "/consumer-" + instance + ".lock";
}

bool exists(const std::string &path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0;
}

// The directories of `instance`'s subtree, as the sweep would find them.
std::vector<std::string> subtree_directories(const std::string &instance) {
  auto subtrees = find_cgroup_subtrees();
  EXPECT_TRUE(subtrees.has_value()) << subtrees.error().message;
  if (!subtrees) return {};
  for (const CgroupSubtree &subtree : *subtrees) {
    if (subtree.instance == instance) return subtree.directories;
  }
  return {};
}

// Pids listed in cgroup.procs of these directories and every cgroup below them.
std::vector<int> processes_in(const std::vector<std::string> &directories) {
  std::vector<int> pids;
  for (const std::string &top : directories) {
    std::error_code error;
    std::vector<std::string> cgroups = {top};
    for (std::filesystem::recursive_directory_iterator it(top, error), end; !error && it != end; it.increment(error)) {
      if (it->is_directory(error)) cgroups.push_back(it->path().string());
    }
    for (const std::string &cgroup : cgroups) {
      std::istringstream listed(read_file_text(cgroup + "/cgroup.procs"));
      for (int pid; listed >> pid;) pids.push_back(pid);
    }
  }
  return pids;
}

// Cgroups that stand for another supervisor's subtree, one beside the killed hutchd's in each hierarchy (as
// a real one's would be: the sweep judges only subtrees it finds in all of them), with a `sleep` in every
// one; gone with the test.
class FakeSubtree {
 public:
  FakeSubtree(const std::vector<std::string> &parents, const std::string &instance) {
    ChildSetup setup;
    for (const std::string &parent : parents) {
      directories_.push_back(parent + "/hutch-" + instance);
      if (::mkdir(directories_.back().c_str(), 0755) != 0) {
        ADD_FAILURE() << "mkdir " << directories_.back() << ": " << std::strerror(errno);
        return;
      }
      setup.join_cgroup_procs.push_back(directories_.back() + "/cgroup.procs");
    }
    std::string error;
    sleeper_ = spawn_process({"/bin/sleep", "120"}, {}, "/dev/null", /*die_with_parent=*/true, &error, setup);
    if (sleeper_ < 0) {
      ADD_FAILURE() << "start sleep in " << directories_.front() << ": " << error;
      return;
    }
    // The sleep joins the cgroups in its own child after fork: until cgroup.procs lists it, a sweep would
    // find this subtree empty (and say "no process was left in it").
    auto deadline = Clock::now() + 5s;
    for (const std::string &directory : directories_) {
      while (!testing::Value(processes_in({directory}), testing::Contains(static_cast<int>(sleeper_)))) {
        if (Clock::now() >= deadline) {
          ADD_FAILURE() << "sleep " << sleeper_ << " never appeared in " << directory << "/cgroup.procs";
          return;
        }
        std::this_thread::sleep_for(5ms);
      }
    }
  }
  ~FakeSubtree() {
    if (sleeper_ > 0 && !exit_status_) stop_process(sleeper_, SIGKILL, 5s);
    for (const std::string &directory : directories_) {
      for (int attempt = 0; attempt < 100 && ::rmdir(directory.c_str()) != 0 && errno == EBUSY; ++attempt)
        std::this_thread::sleep_for(10ms);
    }
  }
  // Whether any of its directories is still there.
  bool exists_anywhere() const {
    return std::any_of(directories_.begin(), directories_.end(), [](const std::string &d) { return exists(d); });
  }
  bool exists_everywhere() const {
    return std::all_of(directories_.begin(), directories_.end(), [](const std::string &d) { return exists(d); });
  }
  const std::string &directory() const { return directories_.front(); }
  // The sleep's wait status once it ended (reaped here), nullopt while it runs.
  std::optional<int> exit_status(std::chrono::milliseconds timeout) {
    if (!exit_status_ && sleeper_ > 0) exit_status_ = wait_for_exit(sleeper_, timeout);
    return exit_status_;
  }

 private:
  std::vector<std::string> directories_;
  pid_t sleeper_ = -1;
  std::optional<int> exit_status_;
};

class StartupCleanupTest : public HutchTest {
 protected:
  bool start_hutchd_in_set_up() override { return false; }
};

TEST_F(StartupCleanupTest, AKilledSupervisorLeavesNoProcessAndTheNextOneRemovesItsCgroups) {
  HUTCH_REQUIRE_ROOT();
  // hutchd A runs a job, then dies without a chance to clean up.
  HutchdOptions killed_options = hutchd_options();
  killed_options.consumer = consumer() + "-killed";
  HutchdProcess killed(killed_options);
  ASSERT_TRUE(killed.start());
  std::string id = redis().xadd_job({{"function", "sleep"}, {"input", R"({"seconds":60})"}, {"timeout", "90"}});
  redis().wait_for_status(id, {"running"}, 15s);
  // cgroup v2: A's subtree is in the cgroup of its own it was started in (test_cgroup.h); v1: beside this test's.
  bool v2 = !killed.test_cgroup().empty();
  std::vector<std::string> left =
      v2 ? std::vector<std::string>{test_cgroup_directory(killed.test_cgroup()) + "/hutch-" +
                                    sanitize_cgroup_name(killed_options.consumer)}
         : subtree_directories(killed_options.consumer);
  if (v2 && !exists(left.front())) left.clear();
  ASSERT_FALSE(left.empty()) << "hutchd " << killed_options.consumer << " made no cgroups: " << killed.log_text();
  ASSERT_FALSE(processes_in(left).empty()) << "its running job is in none of " << left.front();
  ASSERT_TRUE(killed.stop(SIGKILL, 10s).has_value());

  // Its sandboxes die with it: the parent-death signal reaches the spawners and the jobs.
  auto deadline = Clock::now() + 5s;
  while (!processes_in(left).empty() && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_THAT(processes_in(left), testing::IsEmpty()) << "processes outlived their SIGKILLed hutchd";
  for (const std::string &directory : left) ASSERT_TRUE(exists(directory)) << directory << " is already gone";
  EXPECT_TRUE(exists(lock_file(killed_options.consumer)));

  if (v2) {
    // On cgroup v2 no process can join A's cgroup any more (A enabled controllers in it), and every hutchd
    // needs a cgroup of its own, so no later hutchd's start-up sweep can reach what A left: the service
    // manager removes a unit's cgroup once its processes are gone (systemd does: tests/vm/scenario checks it
    // after a kill -9 with Restart=always). Here the test does what systemd would; that it can is the check
    // that nothing of A still runs anywhere in its cgroup.
    remove_empty_test_cgroup(killed.test_cgroup());
    EXPECT_FALSE(exists(test_cgroup_directory(killed.test_cgroup()))) << "something of the killed hutchd remains";
    ::unlink(lock_file(killed_options.consumer).c_str());  // its lock file, which the sweep would have removed
    return;
  }

  // Three more subtrees beside it: a dead owner's with a process still in it (its lock file is free), a live
  // owner's (this test holds its lock), and one without a lock file (an older hutchd's, maybe running).
  std::vector<std::string> parents;
  for (const std::string &directory : left) parents.push_back(directory.substr(0, directory.rfind('/')));
  std::string tag = std::to_string(::getpid());
  FakeSubtree dead(parents, "dead-" + tag), live(parents, "live-" + tag), unknown(parents, "unknown-" + tag);
  // On v1, a dead owner's subtree beside ours in one hierarchy only: its supervisor's cgroup was elsewhere in
  // the others, where B does not look, so B leaves it and its lock file to a hutchd started like it was.
  std::optional<FakeSubtree> partial;
  if (parents.size() > 1) partial.emplace(std::vector<std::string>{parents.front()}, "partial-" + tag);
  UniqueFd partial_lock(::open(lock_file("partial-" + tag).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_FALSE(HasFailure());
  UniqueFd dead_lock(::open(lock_file("dead-" + tag).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  UniqueFd live_lock(::open(lock_file("live-" + tag).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(dead_lock && live_lock) << std::strerror(errno);
  ASSERT_EQ(::flock(live_lock.get(), LOCK_EX | LOCK_NB), 0) << std::strerror(errno);

  // hutchd B, another consumer, cleans up at start-up.
  ASSERT_TRUE(start_hutchd(hutchd_options()));
  std::string log = hutchd().log_text();
  EXPECT_THAT(log, HasSubstr("removed the cgroups of hutch-" + killed_options.consumer +
                             ", whose hutchd is gone; no process was left in it"));
  for (const std::string &directory : left) EXPECT_FALSE(exists(directory)) << directory << " is still there";
  EXPECT_FALSE(exists(lock_file(killed_options.consumer)));

  EXPECT_THAT(log, HasSubstr("removed the cgroups of hutch-dead-" + tag +
                             ", whose hutchd is gone; killed the 1 process left in it"));
  EXPECT_FALSE(dead.exists_anywhere());
  std::optional<int> dead_status = dead.exit_status(5s);
  ASSERT_TRUE(dead_status.has_value()) << "the process in " << dead.directory() << " still runs";
  EXPECT_EQ(describe_wait_status(*dead_status), "signal SIGKILL");
  EXPECT_FALSE(exists(lock_file("dead-" + tag)));

  EXPECT_TRUE(live.exists_everywhere());
  EXPECT_FALSE(live.exit_status(0ms).has_value()) << "the sweep killed a process of a live owner";
  EXPECT_THAT(log, testing::Not(HasSubstr("hutch-live-" + tag + ",")));
  EXPECT_TRUE(unknown.exists_everywhere());
  EXPECT_FALSE(unknown.exit_status(0ms).has_value()) << "the sweep killed a process of an owner it cannot know";
  EXPECT_THAT(log, HasSubstr("left hutch-unknown-" + tag + " alone: it has no lock file"));
  if (partial) {
    EXPECT_THAT(log, HasSubstr("left hutch-partial-" + tag + " alone: it is not beside this hutchd's cgroup in "
                               "every hierarchy"));
    EXPECT_TRUE(partial->exists_everywhere());
    EXPECT_FALSE(partial->exit_status(0ms).has_value()) << "the sweep killed a process it cannot judge";
    EXPECT_TRUE(exists(lock_file("partial-" + tag))) << "its lock file stays for the hutchd that sees all of it";
  }

  ::unlink(lock_file("live-" + tag).c_str());
  ::unlink(lock_file("partial-" + tag).c_str());
}

TEST_F(StartupCleanupTest, ASecondSupervisorUnderTheSameNameRefusesToStart) {
  ASSERT_TRUE(start_hutchd(hutchd_options()));
  HutchdProcess second(hutchd_options());
  EXPECT_FALSE(second.start(10s));
  std::optional<int> status = second.wait(10s);
  ASSERT_TRUE(status.has_value()) << "the second hutchd still runs: " << second.log_text();
  EXPECT_EQ(describe_wait_status(*status), "exit code 1");
  EXPECT_THAT(second.log_text(), HasSubstr("cannot start: another hutchd on this machine runs as consumer " +
                                           consumer() + " (pid " + std::to_string(hutchd().pid()) +
                                           "); give each one its own --consumer"));
  // The first one goes on.
  EXPECT_TRUE(hutchd().running());
  Fields record = run_job({{"function", "hello"}});
  EXPECT_EQ(record["status"], "succeeded") << record["error"];
}

}  // namespace
}  // namespace hutch::test
