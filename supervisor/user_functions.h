// User functions on the supervisor's side: a job names a function that is neither built in nor local, so
// its definition is read from Redis (hutch:fn:<name>, every time: an update applies to the next job), and
// its package is unpacked once per machine into the package cache (catalog/package_cache.h).
//
// Everything read from Redis is an attacker's (docs/security.md, "The control plane"): the definition is
// read through a script that looks at sizes before bytes and checked field by field
// (queue/function_definition.h), the blob likewise (its STRLEN first), the entry's program is found the way
// the sandbox will see it (catalog/entry_program.h) and opened without waiting (sandbox/exec_target.h).
// Whatever fails becomes the job's record, `rejected` with a sentence; hutchd runs on.
//
// Unpacking and trimming the cache happen on libuv's thread pool: a package can be hundreds of MiB and the
// loop never waits. A job holds a lease on its package (a shared flock) from its resolution to its end, so
// the cache never evicts it; when a lease ends while the cache is over its bound, a trim follows.
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/package_cache.h"
#include "catalog/registry.h"
#include "common/error.h"
#include "common/unique_fd.h"
#include "queue/function_definition.h"
#include "queue/redis_connection.h"
#include "sandbox/exec_target.h"

namespace hutch {

struct ResolvedFunction {
  FunctionDefinition definition;
  FunctionSpec spec;
  ExecTarget target;
  std::optional<PackageLease> lease;  // the package's directory, kept from eviction while the job runs
  std::function<void()> on_release;   // runs once the lease has ended
  ~ResolvedFunction() {
    lease.reset();
    if (on_release) on_release();
  }
};

// Either the function (shared: it lives as long as the job that runs it), or why not. `unknown` means no
// such function exists (the job is rejected); otherwise the stored function is unusable (`sentence`).
struct Resolution {
  std::shared_ptr<const ResolvedFunction> function;
  bool unknown = false;
  std::string sentence;
};

class UserFunctions {
 public:
  UserFunctions(uv_loop_t *loop, RedisConnection &redis, std::string cache_directory, uint64_t cache_bytes);
  ~UserFunctions();
  UserFunctions(const UserFunctions &) = delete;
  UserFunctions &operator=(const UserFunctions &) = delete;

  // Opens and sweeps the package cache (logging what it removes) and opens /usr; an error stops hutchd.
  Status prepare();
  // Without root a package cannot be shown to a sandbox: every lookup then answers `reason` instead.
  void disable(std::string reason) { disabled_reason_ = std::move(reason); }
  void resolve(const std::string &name, std::function<void(Resolution)> done);
  size_t pending() const { return pending_; }

 private:
  using LeaseCallback = std::function<void(Result<PackageLease>)>;
  struct Unpack;
  struct Trim;

  void ensure_package(const std::string &sha256, LeaseCallback done);
  void on_blob(const std::string &sha256, const redisReply *reply);
  void finish_waiters(const std::string &sha256, const Status &status);
  static void unpack_in_thread(uv_work_t *work);
  static void after_unpack(uv_work_t *work, int status);
  void trim_later();
  static void trim_in_thread(uv_work_t *work);
  static void after_trim(uv_work_t *work, int status);
  void log_report(const PackageCache::Report &report);
  Result<std::shared_ptr<const ResolvedFunction>> build(FunctionDefinition definition, PackageLease lease) const;

  uv_loop_t *loop_;
  RedisConnection &redis_;
  std::string cache_directory_;
  uint64_t cache_bytes_;
  std::unique_ptr<PackageCache> cache_;
  UniqueFd usr_fd_;  // /usr, beneath which a program named by an entry is opened
  size_t pending_ = 0;
  std::string disabled_reason_;
  std::map<std::string, std::vector<LeaseCallback>> waiting_;  // sha256 -> jobs waiting for it
  bool over_bound_ = false;  // the last pass left the cache over its bound (packages in use)
  bool trimming_ = false;
  // Leases outlive nothing of ours in practice (executions end first), but their release hooks check.
  std::shared_ptr<UserFunctions *> self_;
};

}  // namespace hutch
