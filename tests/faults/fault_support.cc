#include "tests/faults/fault_support.h"

#include <dirent.h>
#include <signal.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "gtest/gtest.h"
#include "queue/keys.h"
#include "sandbox/cgroup_mounts.h"

namespace hutch::test {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr size_t kPipelineBatch = 1000;
constexpr size_t kIdsShownPerProblem = 5;
// The id part of the marker FinalEventLedger::sync publishes: no execution id looks like it.
constexpr const char *kSyncMarker = "hutch-test-ledger-sync";

std::string first_ids(const std::vector<std::string> &ids) {
  std::string out;
  for (size_t i = 0; i < ids.size() && i < kIdsShownPerProblem; ++i) out += (i ? ", " : "") + ids[i];
  if (ids.size() > kIdsShownPerProblem) out += ", ... (" + std::to_string(ids.size()) + " in all)";
  return out;
}

// Runs `make_command(id)` for every id in pipelined batches.
std::vector<Reply> pipelined_per_id(RedisClient &redis, const std::vector<std::string> &ids,
                                    const std::function<std::vector<std::string>(const std::string &)> &make_command) {
  std::vector<Reply> replies;
  for (size_t start = 0; start < ids.size(); start += kPipelineBatch) {
    std::vector<std::vector<std::string>> batch;
    for (size_t i = start; i < ids.size() && i < start + kPipelineBatch; ++i) batch.push_back(make_command(ids[i]));
    for (Reply &reply : redis.pipeline(batch)) replies.push_back(std::move(reply));
  }
  return replies;
}

bool is_process_alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return false;
  return text[close + 2] != 'Z' && text[close + 2] != 'X';
}

}  // namespace

FinalEventLedger::FinalEventLedger(const std::string &redis_url) : url_(redis_url) {
  // Subscribed before the constructor returns, so no event of the test is published before we listen.
  auto first = std::make_shared<Subscriber>(url_, std::string(keys::kEventsChannel));
  thread_ = std::thread([this, first]() mutable {
    std::shared_ptr<Subscriber> subscriber = std::move(first);
    while (!stopping_.load()) {
      if (!subscriber) {
        try {
          subscriber = std::make_shared<Subscriber>(url_, std::string(keys::kEventsChannel));
          reconnects_.fetch_add(1);
        } catch (const std::exception &) {
          std::this_thread::sleep_for(20ms);  // Redis is restarting: try again soon
          continue;
        }
      }
      auto message = subscriber->next_message(200ms);
      if (!message) {
        // A quiet moment, or the server went away (Redis restarting): only the latter needs a new connection.
        if (!subscriber->connected()) subscriber.reset();
        continue;
      }
      auto space = message->find(' ');
      if (space == std::string::npos) continue;
      std::string word = message->substr(space + 1);
      if (message->substr(0, space) == kSyncMarker) {
        marker_seen_.store(std::stol(word));
        continue;
      }
      if (!final_statuses().contains(word)) continue;
      std::lock_guard lock(mutex_);
      finals_[message->substr(0, space)].push_back(word);
    }
  });
}

FinalEventLedger::~FinalEventLedger() { stop(); }

bool FinalEventLedger::sync(RedisClient &redis, std::chrono::milliseconds timeout) {
  long marker = markers_sent_.fetch_add(1) + 1;
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    redis.command({"PUBLISH", std::string(keys::kEventsChannel), std::string(kSyncMarker) + " " + std::to_string(marker)});
    auto republish_at = std::min(deadline, Clock::now() + 500ms);
    while (Clock::now() < republish_at) {
      if (marker_seen_.load() >= marker) return true;
      std::this_thread::sleep_for(5ms);
    }
  }
  return false;
}

void FinalEventLedger::stop() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
}

std::map<std::string, std::vector<std::string>> FinalEventLedger::finals() const {
  std::lock_guard lock(mutex_);
  return finals_;
}

std::vector<std::string> enqueue_pipelined(RedisClient &redis, const JobFields &fields, size_t count) {
  std::vector<std::string> command = {"XADD", std::string(keys::kJobsStream), "*"};
  for (const auto &[name, value] : fields) command.insert(command.end(), {name, value});
  std::vector<std::string> ids;
  for (size_t start = 0; start < count; start += kPipelineBatch) {
    std::vector<std::vector<std::string>> batch(std::min(kPipelineBatch, count - start), command);
    for (const Reply &reply : redis.pipeline(batch)) {
      if (reply.type != Reply::Type::kString) {
        ADD_FAILURE() << "pipelined XADD: " << reply.describe();
        continue;
      }
      ids.push_back(reply.text);
    }
  }
  return ids;
}

std::vector<std::string> record_field_of(RedisClient &redis, const std::vector<std::string> &ids,
                                         const std::string &field) {
  std::vector<std::string> values;
  for (const Reply &reply : pipelined_per_id(redis, ids, [&](const std::string &id) {
         return std::vector<std::string>{"HGET", RedisClient::execution_key(id), field};
       }))
    values.push_back(reply.type == Reply::Type::kString ? reply.text : "");
  return values;
}

size_t wait_until_all_final(RedisClient &redis, const std::vector<std::string> &ids, std::chrono::milliseconds timeout) {
  constexpr size_t kChunk = 256;
  auto deadline = Clock::now() + timeout;
  std::deque<std::string> open(ids.begin(), ids.end());
  for (;;) {
    // Jobs end roughly in the order they were enqueued: ask about the oldest open ones, and about later ones
    // only once those are all final, so that polling 20,000 ids does not load the Redis hutchd writes to.
    while (!open.empty()) {
      std::vector<std::string> chunk(open.begin(), open.begin() + static_cast<long>(std::min(kChunk, open.size())));
      std::vector<std::string> statuses;
      try {
        statuses = record_field_of(redis, chunk, "status");
      } catch (const std::exception &) {
        break;  // Redis is restarting: ask again on the next round
      }
      open.erase(open.begin(), open.begin() + static_cast<long>(chunk.size()));
      bool all_final = true;
      for (size_t i = chunk.size(); i-- > 0;) {
        if (!final_statuses().contains(statuses[i])) {
          open.push_front(chunk[i]);
          all_final = false;
        }
      }
      if (!all_final) break;
    }
    if (open.empty() || Clock::now() >= deadline) return ids.size() - open.size();
    std::this_thread::sleep_for(250ms);
  }
}

std::vector<int> eof_counts(RedisClient &redis, const std::vector<std::string> &ids) {
  std::vector<int> counts;
  for (const Reply &reply : pipelined_per_id(redis, ids, [](const std::string &id) {
         return std::vector<std::string>{"XRANGE", RedisClient::logs_key(id), "-", "+"};
       })) {
    int eofs = 0;
    for (const Reply &entry : reply.elements) {
      if (entry.elements.size() != 2) continue;
      const auto &fields = entry.elements[1].elements;
      for (size_t i = 0; i + 1 < fields.size(); i += 2)
        if (fields[i].text == "eof") ++eofs;
    }
    counts.push_back(eofs);
  }
  return counts;
}

void expect_exactly_one_final_record(RedisClient &redis, FinalEventLedger &ledger,
                                     const std::vector<std::string> &ids, bool events_may_miss) {
  EXPECT_TRUE(ledger.sync(redis)) << "the ledger's subscriber never received the test's own marker";
  std::vector<std::string> statuses = record_field_of(redis, ids, "status");
  std::vector<int> eofs = eof_counts(redis, ids);
  auto finals = ledger.finals();
  std::vector<std::string> not_final, eof_missing, eof_twice, event_missing, event_twice, succeeded_twice;
  std::map<std::string, size_t> by_status;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string &id = ids[i];
    ++by_status[statuses[i].empty() ? "(no record)" : statuses[i]];
    if (!final_statuses().contains(statuses[i])) not_final.push_back(id);
    if (eofs[i] == 0) eof_missing.push_back(id);
    if (eofs[i] > 1) eof_twice.push_back(id);
    auto seen = finals.find(id);
    size_t events = seen == finals.end() ? 0 : seen->second.size();
    if (events == 0) event_missing.push_back(id);
    if (events > 1) event_twice.push_back(id);
    if (seen != finals.end() && std::count(seen->second.begin(), seen->second.end(), "succeeded") > 1)
      succeeded_twice.push_back(id);
  }
  std::cout << "[ exactly-one ] " << ids.size() << " jobs; statuses:";
  for (const auto &[status, count] : by_status) std::cout << " " << status << "=" << count;
  std::cout << "; eof missing " << eof_missing.size() << ", eof more than once " << eof_twice.size()
            << "; final event missing " << event_missing.size() << ", more than once " << event_twice.size()
            << ", succeeded more than once " << succeeded_twice.size() << "; subscriber reconnects "
            << ledger.reconnects() << std::endl;
  EXPECT_TRUE(not_final.empty()) << "jobs without a final record: " << first_ids(not_final);
  EXPECT_TRUE(eof_missing.empty()) << "log streams without an eof entry: " << first_ids(eof_missing);
  EXPECT_TRUE(eof_twice.empty()) << "log streams with more than one eof entry: " << first_ids(eof_twice);
  EXPECT_TRUE(event_twice.empty()) << "more than one final status published: " << first_ids(event_twice);
  EXPECT_TRUE(succeeded_twice.empty()) << "`succeeded` published more than once: " << first_ids(succeeded_twice);
  if (!events_may_miss) {
    EXPECT_TRUE(event_missing.empty()) << "no final status published: " << first_ids(event_missing);
  }
}

std::vector<std::string> cgroup_directories_of(const std::string &consumer) {
  std::vector<std::string> directories;
  auto mounts = read_cgroup_mounts();
  if (!mounts) return directories;
  const std::string wanted = "hutch-" + sanitize_cgroup_name(consumer);
  std::error_code error;
  for (const CgroupMount &mount : *mounts) {
    // hutchd's subtree sits beside the cgroup it started in, a few levels down at most.
    fs::recursive_directory_iterator walk(mount.mount_point, fs::directory_options::skip_permission_denied, error);
    for (auto end = fs::recursive_directory_iterator(); !error && walk != end; walk.increment(error)) {
      if (!walk->is_directory(error)) continue;
      bool inside = walk->path().string().find("/" + wanted + "/") != std::string::npos;
      if (walk->path().filename() == wanted || inside) {
        directories.push_back(walk->path().string());
      } else if (walk.depth() >= 4) {
        walk.disable_recursion_pending();
      }
    }
  }
  return directories;
}

std::vector<pid_t> processes_in_cgroups_of(const std::string &consumer) {
  std::vector<pid_t> pids;
  for (const std::string &directory : cgroup_directories_of(consumer)) {
    std::ifstream procs(directory + "/cgroup.procs");
    for (pid_t pid; procs >> pid;) pids.push_back(pid);
  }
  return pids;
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> children;
  std::unique_ptr<DIR, int (*)(DIR *)> proc(::opendir("/proc"), ::closedir);
  if (!proc) return children;
  while (dirent *entry = ::readdir(proc.get())) {
    char *end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') continue;
    std::ifstream stat("/proc/" + std::string(entry->d_name) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && state != "Z") children.push_back(static_cast<pid_t>(pid));
  }
  return children;
}

std::vector<pid_t> still_living(const std::vector<pid_t> &pids) {
  std::vector<pid_t> living;
  for (pid_t pid : pids)
    if (is_process_alive(pid)) living.push_back(pid);
  return living;
}

HostFootprint footprint_of(pid_t pid, const std::string &consumer) {
  HostFootprint footprint;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) footprint.rss_kib = std::stol(line.substr(6));
  }
  std::error_code error;
  long fds = 0;
  for (fs::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", error), end; !error && it != end;
       it.increment(error))
    ++fds;
  if (!error) footprint.open_fds = fds;
  footprint.cgroup_dirs = static_cast<long>(cgroup_directories_of(consumer).size());
  return footprint;
}

std::ostream &operator<<(std::ostream &out, const HostFootprint &footprint) {
  return out << "RSS " << footprint.rss_kib << " KiB, " << footprint.open_fds << " open fds, "
             << footprint.cgroup_dirs << " cgroup directories";
}

}  // namespace hutch::test

namespace hutch::test {

HutchdOptions FaultTest::supervisor_options(const std::string &consumer, int concurrency) {
  HutchdOptions options = hutchd_options();
  options.consumer = consumer;
  options.concurrency = concurrency;
  options.extra_args.insert(options.extra_args.end(), {"--lease", kTestLeaseSeconds});
  return options;
}

HutchdProcess *FaultTest::start_supervisor(HutchdOptions options) {
  supervisors_.push_back(std::make_unique<HutchdProcess>(std::move(options)));
  testing::AssertionResult started = supervisors_.back()->start(30s);
  EXPECT_TRUE(started);
  return started ? supervisors_.back().get() : nullptr;
}

void FaultTest::expect_clean_stop(HutchdProcess &supervisor) {
  auto grace = std::chrono::duration<double>(supervisor.options().grace_seconds.value_or(30));
  auto bound = std::chrono::duration_cast<std::chrono::milliseconds>(grace) + 15s;
  std::optional<int> status = supervisor.stop(SIGTERM, bound);
  ASSERT_TRUE(status.has_value()) << supervisor.options().consumer << " did not exit within " << bound.count()
                                  << " ms of SIGTERM";
  EXPECT_EQ(describe_wait_status(*status), "exit code 0") << supervisor.options().consumer << "'s exit on SIGTERM";
}

void FaultTest::TearDown() {
  for (auto &supervisor : supervisors_) {
    if (supervisor->running()) expect_clean_stop(*supervisor);
    if (std::optional<int> status = supervisor->wait(0ms)) {
      EXPECT_NE(describe_wait_status(*status), "signal SIGABRT") << supervisor->options().consumer << " aborted";
    }
    EXPECT_EQ(supervisor->sanitizer_report(), "") << supervisor->options().consumer << "'s sanitizer report";
  }
  if (HasFailure()) {
    for (auto &supervisor : supervisors_)
      std::cerr << "--- hutchd log (" << supervisor->options().consumer << ", pid " << supervisor->pid() << ") ---\n"
                << supervisor->log_text() << "--- end of hutchd log ---\n";
  }
  supervisors_.clear();
  HutchTest::TearDown();
}

}  // namespace hutch::test
