// User functions on the supervisor's side: a job names a function that is neither built in nor local, so
// its definition is read from Redis (HGETALL hutch:fn:<name>, every time: an update applies to the next
// job), and its package is unpacked once per machine into a cache keyed by its SHA-256.
//
// Unpacking happens on libuv's thread pool: a package can be hundreds of MiB and the loop never waits.
// The blob's checksum is verified before anything is written, and the unpacked directory appears under its
// final name only when complete (rename), so a crash never leaves a half package that looks whole.
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "catalog/registry.h"
#include "queue/function_definition.h"
#include "queue/redis_connection.h"
#include "sandbox/exec_target.h"

namespace hutch {

struct ResolvedFunction {
  FunctionDefinition definition;
  FunctionSpec spec;
  ExecTarget target;
};

// Either the function (shared: it lives as long as the job that runs it), or why not. `unknown` means no
// such function exists (the job is rejected); otherwise something failed on the way (an error).
struct Resolution {
  std::shared_ptr<const ResolvedFunction> function;
  bool unknown = false;
  std::string sentence;
};

class UserFunctions {
 public:
  UserFunctions(uv_loop_t *loop, RedisConnection &redis, std::string cache_directory);

  // Prepares the cache directory; an error stops hutchd at start.
  Status prepare();
  // Without root a package cannot be shown to a sandbox: every lookup then answers `reason` instead.
  void disable(std::string reason) { disabled_reason_ = std::move(reason); }
  void resolve(const std::string &name, std::function<void(Resolution)> done);
  size_t pending() const { return pending_; }

 private:
  struct Unpack;
  void ensure_package(const FunctionDefinition &definition, std::function<void(Status)> done);
  void on_blob(const std::string &sha256, const redisReply *reply);
  static void unpack_in_thread(uv_work_t *work);
  static void after_unpack(uv_work_t *work, int status);
  Result<std::shared_ptr<const ResolvedFunction>> build(FunctionDefinition definition) const;
  std::string package_directory(const std::string &sha256) const { return cache_directory_ + "/" + sha256; }

  uv_loop_t *loop_;
  RedisConnection &redis_;
  std::string cache_directory_;
  size_t pending_ = 0;
  std::string disabled_reason_;
  std::map<std::string, std::vector<std::function<void(Status)>>> waiting_;  // sha256 -> jobs waiting for it
};

}  // namespace hutch
