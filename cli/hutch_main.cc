// `hutch`: argument dispatch only. Usage errors and an unreachable Redis exit 2 before any verb runs; a
// verb's error sentence exits 1. Nothing escapes main as an exception.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "cli/options.h"
#include "cli/redis_client.h"
#include "cli/usage.h"
#include "cli/verbs.h"
#include "common/text_escape.h"
#include "queue/redis_url.h"

namespace hutch::cli {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr const char *kDefaultRedisUrl = "redis://127.0.0.1:6379";

int usage_error(const Error &error) {
  std::fprintf(stderr, "hutch: %s\n\n%s", error.message.c_str(), kUsage);
  return kExitUsage;
}

// Sentences may quote what Redis holds (a package's name, a key): shown escaped, as everything from Redis.
int report(const Error &error, int exit_status) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s\n", escape_control_characters(error.message, Layout::kMultiLine).c_str());
  return exit_status;
}

std::string redis_url(const Invocation &invocation) {
  if (invocation.redis_url) return *invocation.redis_url;
  const char *from_environment = std::getenv("HUTCH_REDIS");
  return from_environment && *from_environment ? from_environment : kDefaultRedisUrl;
}

int run(const std::vector<std::string> &args) {
  auto invocation = parse_command_line(args);
  if (!invocation) return usage_error(invocation.error());
  if (std::holds_alternative<HelpRequest>(invocation->command)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  // doctor looks at this machine only, acl writes a file: no Redis to reach.
  if (auto *doctor = std::get_if<DoctorOptions>(&invocation->command)) {
    auto outcome = run_doctor(*doctor);
    if (!outcome) return report(outcome.error(), kExitUsage);
    return *outcome;
  }
  if (auto *acl = std::get_if<AclOptions>(&invocation->command)) {
    auto outcome = run_acl(*acl);
    if (!outcome) return report(outcome.error(), kExitFailure);
    return *outcome;
  }
  auto address = parse_redis_url(redis_url(*invocation));
  if (!address) return report(address.error(), kExitUsage);
  if (auto *submit = std::get_if<SubmitOptions>(&invocation->command)) {
    auto resolved = resolve_submit_input(*submit);
    if (!resolved) return report(resolved.error(), kExitUsage);
  }
  auto redis = RedisClient::connect(*address);
  if (!redis) return report(redis.error(), kExitUsage);

  Result<int> outcome = std::visit(
      [&](const auto &options) -> Result<int> {
        using Options = std::decay_t<decltype(options)>;
        if constexpr (std::is_same_v<Options, SubmitOptions>) return run_submit(*redis, options);
        if constexpr (std::is_same_v<Options, StatusOptions>) return run_status(*redis, options);
        if constexpr (std::is_same_v<Options, LsOptions>) return run_ls(*redis, options);
        if constexpr (std::is_same_v<Options, LogsOptions>) return run_logs(*redis, *address, options);
        if constexpr (std::is_same_v<Options, PutOptions>) return run_put(*redis, options);
        if constexpr (std::is_same_v<Options, GetOptions>) return run_get(*redis, options);
        if constexpr (std::is_same_v<Options, FunctionOptions>) return run_function(*redis, options);
        if constexpr (std::is_same_v<Options, PackageOptions>) return run_package(*redis, options);
        return 0;  // HelpRequest, DoctorOptions and AclOptions, answered above
      },
      invocation->command);
  if (!outcome) return report(outcome.error(), kExitFailure);
  std::fflush(stdout);
  return *outcome;
}

}  // namespace
}  // namespace hutch::cli

int main(int argc, char **argv) {
  try {
    return hutch::cli::run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception &error) {
    // The code returns errors as values; this is the net under the standard library (bad_alloc and such).
    std::fprintf(stderr, "hutch: internal error: %s\n", error.what());
    return 1;
  }
}
