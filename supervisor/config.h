// hutchd's settings: flags, then HUTCH_* environment variables, then defaults (docs/protocol.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "queue/redis_url.h"

namespace hutch {

struct SupervisorConfig {
  std::string redis_url = "redis://127.0.0.1:6379";
  RedisAddress redis;
  int concurrency = 1;
  std::string consumer;
  double grace_seconds = 30;
  uint64_t log_cap_bytes = 10ULL << 20;
  uint32_t pids_per_job = 256;
  uint64_t tmp_size_bytes = 64ULL << 20;  // each of the job's tmpfs mounts, /tmp and /work
  uint64_t file_cap_bytes = 64ULL << 20;       // each input or output file
  uint64_t job_files_cap_bytes = 256ULL << 20; // a job's input files together, and its outputs together
  // Delivery (docs/protocol.md, "Delivery"): an entry pending longer than the lease without a heartbeat
  // is taken as its supervisor's death; a job whose supervisors died max_attempts times is abandoned.
  int64_t lease_ms = 30000;
  int max_attempts = 3;
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;  // records, logs, output keys, hutch:execs; 0: forever
  uint64_t buffer_cap_bytes = 64ULL << 20;        // log lines held while Redis is unreachable
  uint32_t uid_base = 60000;  // sandbox uid = uid_base + slot, when hutchd runs as root
  std::string hutch_fn_path;  // the built-ins' binary; default: next to hutchd
  std::string cache_directory;  // unpacked user-function packages; default /var/cache/hutch (root) or ~/.cache/hutch
  // The package cache's bound (catalog/package_cache.h): 2G holds four packages of the largest size a package
  // may unpack to (512 MiB), or hundreds of typical ones, and stays small next to /var on a small VM's disk.
  uint64_t cache_size_bytes = 2ULL << 30;
  std::string hutch_image_path;  // the image built-ins' binary (OpenCV); default: next to hutchd
  std::string spawner_path;   // hutch-spawner; default: next to hutchd
  std::vector<std::string> local_functions;  // NAME=PATH
  std::string seccomp_policy_path;           // --seccomp-policy; empty: the default policy built in
  std::vector<std::string> seccomp_allow;    // NAME=call,call (--seccomp-allow, repeatable)
  bool verbose = false;
  bool check = false;  // --check: print what this machine offers (supervisor/doctor.h) and exit
  bool help = false;   // --help or -h: print supervisor_usage() and exit 0; nothing else was read
};

// "7d", "12h", "30m", "90s", "3600": a duration in whole seconds; nullopt when not of that form.
std::optional<int64_t> parse_duration_seconds(const std::string &text);

// Parses argv and the environment. A sentence for any bad value. --help is an outcome, not an error: a
// config with `help` set, returned as soon as the flag is seen, before any other value is checked.
Result<SupervisorConfig> parse_supervisor_config(int argc, char **argv);
const char *supervisor_usage();

}  // namespace hutch
