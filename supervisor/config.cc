#include "supervisor/config.h"

#include <limits.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <thread>

#include "queue/job.h"

namespace hutch {
namespace {

std::string env_or(const char *name, const std::string &fallback) {
  const char *value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

std::string own_directory() {
  char path[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return ".";
  std::string exe(path, static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/'));
}

// Helper programs live beside hutchd once installed, or in their folder of the build tree.
std::string default_program_path(const std::string &name, const std::string &build_folder) {
  std::string dir = own_directory();
  for (const std::string &candidate : {dir + "/" + name, dir + "/../" + build_folder + "/" + name}) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return dir + "/" + name;
}

Result<long> parse_whole(const std::string &flag, const std::string &text, long min, long max) {
  auto value = parse_decimal(text);
  if (!value || *value != static_cast<double>(static_cast<long>(*value)) || *value < min || *value > max)
    return fail(make_error(flag + ": '" + text + "' is not a whole number from " + std::to_string(min) + " to " +
                           std::to_string(max)));
  return static_cast<long>(*value);
}

Status parse_delivery_settings(SupervisorConfig &config, const std::string &lease, const std::string &max_attempts,
                               const std::string &retention, const std::string &buffer_cap) {
  auto lease_seconds = parse_decimal(lease);
  if (!lease_seconds || *lease_seconds < 0.5 || *lease_seconds > 3600)
    return fail(make_error("--lease: '" + lease + "' is not a number of seconds from 0.5 to 3600, e.g. 30"));
  config.lease_ms = static_cast<int64_t>(*lease_seconds * 1000 + 0.5);
  TRY_ASSIGN(config.max_attempts, parse_whole("--max-attempts", max_attempts, 1, 100));
  auto retention_seconds = parse_duration_seconds(retention);
  if (!retention_seconds)
    return fail(make_error("--retention: '" + retention +
                           "' is not a duration; use seconds or a number with s, m, h or d (e.g. 7d), or 0 to keep "
                           "everything"));
  config.retention_ms = *retention_seconds * 1000;
  auto cap = parse_size_bytes(buffer_cap);
  if (!cap || *cap < (1 << 20))
    return fail(make_error("--buffer-cap: '" + buffer_cap + "' is not a size of at least 1M, e.g. 64M"));
  config.buffer_cap_bytes = *cap;
  return {};
}

}  // namespace

std::optional<int64_t> parse_duration_seconds(const std::string &text) {
  if (text.empty() || text.size() > 12) return std::nullopt;
  int64_t unit = 1;
  std::string digits = text;
  switch (text.back()) {
    case 's': unit = 1; digits.pop_back(); break;
    case 'm': unit = 60; digits.pop_back(); break;
    case 'h': unit = 3600; digits.pop_back(); break;
    case 'd': unit = 86400; digits.pop_back(); break;
    default: break;
  }
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  int64_t value = std::stoll(digits);
  // Beyond ten years a TTL means "forever" in all but name; refusing it keeps the arithmetic far from overflow.
  if (value * unit > 10LL * 366 * 86400) return std::nullopt;
  return value * unit;
}

const char *supervisor_usage() {
  return "usage: hutchd [--redis URL] [--concurrency N] [--consumer NAME] [--grace SECONDS]\n"
         "              [--log-cap BYTES] [--pids N] [--tmp-size BYTES] [--lease SECONDS]\n"
         "              [--max-attempts N] [--retention DURATION] [--buffer-cap BYTES]\n"
         "              [--file-cap BYTES] [--job-files-cap BYTES] [--uid-base UID] [--hutch-fn PATH]\n"
         "              [--hutch-image PATH] [--spawner PATH] [--cache-dir DIR] [--cache-size BYTES]\n"
         "              [--function NAME=PATH]... [--seccomp-policy FILE] [--seccomp-allow NAME=CALL,...]...\n"
         "              [--verbose] [--check]\n"
         "Runs jobs from the Redis stream hutch:jobs in sandboxes. See docs/protocol.md.\n"
         "--seccomp-policy runs every sandbox under FILE instead of the built-in default.seccomp (same syntax;\n"
         "  the default is sandbox/policy/default.seccomp in the source tree). --seccomp-allow lets function\n"
         "  NAME make these calls too, on top of the policy; calls the policy kills, answers with a chosen errno\n"
         "  or allows only with some arguments cannot be added. See docs/security.md.\n"
         "--check prints what this machine offers and what hutch will enforce, then exits (0: real isolation).\n";
}

Result<SupervisorConfig> parse_supervisor_config(int argc, char **argv) {
  SupervisorConfig config;
  char hostname[256] = "localhost";
  ::gethostname(hostname, sizeof hostname - 1);
  std::string redis = env_or("HUTCH_REDIS", config.redis_url);
  std::string concurrency = env_or("HUTCH_CONCURRENCY", std::to_string(std::max(1u, std::thread::hardware_concurrency())));
  config.consumer = env_or("HUTCH_CONSUMER", std::string(hostname) + ":" + std::to_string(::getpid()));
  std::string grace = env_or("HUTCH_GRACE", "30");
  std::string log_cap = env_or("HUTCH_LOG_CAP", "10M");
  std::string pids = env_or("HUTCH_PIDS", "256");
  std::string tmp_size = env_or("HUTCH_TMP_SIZE", "64M");
  std::string file_cap = env_or("HUTCH_FILE_CAP", "64M");
  std::string job_files_cap = env_or("HUTCH_JOB_FILES_CAP", "256M");
  std::string uid_base = env_or("HUTCH_UID_BASE", "60000");
  std::string lease = env_or("HUTCH_LEASE", "30");
  std::string max_attempts = env_or("HUTCH_MAX_ATTEMPTS", "3");
  std::string retention = env_or("HUTCH_RETENTION", "7d");
  std::string buffer_cap = env_or("HUTCH_BUFFER_CAP", "64M");
  config.hutch_fn_path = env_or("HUTCH_FN", "");
  const char *home = std::getenv("HOME");
  config.cache_directory = env_or("HUTCH_CACHE_DIR", ::geteuid() == 0 ? "/var/cache/hutch"
                                                                        : std::string(home ? home : "/tmp") + "/.cache/hutch");
  std::string cache_size = env_or("HUTCH_CACHE_SIZE", "2G");
  config.hutch_image_path = env_or("HUTCH_IMAGE", "");
  config.spawner_path = env_or("HUTCH_SPAWNER", "");
  config.seccomp_policy_path = env_or("HUTCH_SECCOMP_POLICY", "");
  std::istringstream functions(env_or("HUTCH_FUNCTIONS", ""));
  for (std::string item; std::getline(functions, item, ',');) {
    if (!item.empty()) config.local_functions.push_back(item);
  }

  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      config.help = true;
      return config;
    }
    if (flag == "--verbose") {
      config.verbose = true;
      continue;
    }
    if (flag == "--check") {
      config.check = true;
      continue;
    }
    if (i + 1 >= argc) return fail(make_error(flag + ": needs a value\n" + supervisor_usage()));
    std::string value = argv[++i];
    if (flag == "--redis") redis = value;
    else if (flag == "--concurrency") concurrency = value;
    else if (flag == "--consumer") config.consumer = value;
    else if (flag == "--grace") grace = value;
    else if (flag == "--log-cap") log_cap = value;
    else if (flag == "--pids") pids = value;
    else if (flag == "--tmp-size") tmp_size = value;
    else if (flag == "--file-cap") file_cap = value;
    else if (flag == "--job-files-cap") job_files_cap = value;
    else if (flag == "--uid-base") uid_base = value;
    else if (flag == "--lease") lease = value;
    else if (flag == "--max-attempts") max_attempts = value;
    else if (flag == "--retention") retention = value;
    else if (flag == "--buffer-cap") buffer_cap = value;
    else if (flag == "--hutch-fn") config.hutch_fn_path = value;
    else if (flag == "--cache-dir") config.cache_directory = value;
    else if (flag == "--cache-size") cache_size = value;
    else if (flag == "--hutch-image") config.hutch_image_path = value;
    else if (flag == "--spawner") config.spawner_path = value;
    else if (flag == "--function") config.local_functions.push_back(value);
    else if (flag == "--seccomp-policy") config.seccomp_policy_path = value;
    else if (flag == "--seccomp-allow") config.seccomp_allow.push_back(value);
    else return fail(make_error("unknown flag '" + flag + "'\n" + supervisor_usage()));
  }

  config.redis_url = redis;
  auto address = parse_redis_url(redis);
  if (!address) return fail(address.error().context("--redis"));
  config.redis = *address;
  TRY_ASSIGN(config.concurrency, parse_whole("--concurrency", concurrency, 1, 1024));
  TRY_ASSIGN(config.pids_per_job, parse_whole("--pids", pids, 8, 1 << 20));
  TRY_ASSIGN(config.uid_base, parse_whole("--uid-base", uid_base, 1, 4000000000L));
  auto grace_value = parse_decimal(grace);
  if (!grace_value || *grace_value < 0 || *grace_value > 3600)
    return fail(make_error("--grace: '" + grace + "' is not a number of seconds from 0 to 3600"));
  config.grace_seconds = *grace_value;
  auto cap = parse_size_bytes(log_cap);
  if (!cap || *cap < 1024) return fail(make_error("--log-cap: '" + log_cap + "' is not a size of at least 1K, e.g. 10M"));
  config.log_cap_bytes = *cap;
  auto tmp = parse_size_bytes(tmp_size);
  if (!tmp || *tmp < (1 << 20)) return fail(make_error("--tmp-size: '" + tmp_size + "' is not a size of at least 1M, e.g. 64M"));
  config.tmp_size_bytes = *tmp;
  // Redis strings hold at most 512 MiB, so no cap above that could ever be reached.
  auto file_cap_value = parse_size_bytes(file_cap);
  if (!file_cap_value || *file_cap_value < 1 || *file_cap_value > (512ULL << 20))
    return fail(make_error("--file-cap: '" + file_cap + "' is not a size from 1 byte to 512M, e.g. 64M"));
  config.file_cap_bytes = *file_cap_value;
  auto job_cap_value = parse_size_bytes(job_files_cap);
  if (!job_cap_value || *job_cap_value < *file_cap_value || *job_cap_value > (64ULL << 30))
    return fail(make_error("--job-files-cap: '" + job_files_cap + "' is not a size from --file-cap (" + file_cap +
                           ") to 64G, e.g. 256M"));
  config.job_files_cap_bytes = *job_cap_value;
  TRY_STATUS(parse_delivery_settings(config, lease, max_attempts, retention, buffer_cap));
  if (config.cache_directory.empty() || config.cache_directory[0] != '/')
    return fail(make_error("--cache-dir: '" + config.cache_directory + "' is not an absolute path"));
  auto cache_bytes = parse_size_bytes(cache_size);
  if (!cache_bytes || *cache_bytes < (1 << 20))
    return fail(make_error("--cache-size: '" + cache_size + "' is not a size of at least 1M, e.g. 2G"));
  config.cache_size_bytes = *cache_bytes;
  if (config.consumer.empty()) return fail(make_error("--consumer: the name must not be empty"));
  if (config.hutch_fn_path.empty()) config.hutch_fn_path = default_program_path("hutch-fn", "functions");
  if (config.hutch_image_path.empty()) config.hutch_image_path = default_program_path("hutch-image", "functions/image");
  if (config.spawner_path.empty()) config.spawner_path = default_program_path("hutch-spawner", "sandbox");
  return config;
}

}  // namespace hutch
