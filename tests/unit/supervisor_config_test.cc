// hutchd's delivery flags (--lease, --max-attempts, --retention, --buffer-cap) and --cache-size: values and
// the sentences for bad ones; --help as an outcome of the parser. Parsing only: nothing connects or starts.
#include "supervisor/config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hutch {
namespace {

Result<SupervisorConfig> parse(std::vector<std::string> flags) {
  std::vector<char *> argv{const_cast<char *>("hutchd")};
  for (std::string &flag : flags) argv.push_back(flag.data());
  return parse_supervisor_config(static_cast<int>(argv.size()), argv.data());
}

std::string error_of(std::vector<std::string> flags) {
  auto config = parse(std::move(flags));
  return config ? "(accepted)" : config.error().message;
}

TEST(SupervisorConfigTest, HelpIsAnOutcomeNotAnError) {
  for (const char *flag : {"--help", "-h"}) {
    auto config = parse({flag});
    ASSERT_TRUE(config) << flag << ": " << config.error().message;
    EXPECT_TRUE(config->help) << flag;
  }
  // It wins over a bad value anywhere: the user asked how to call hutchd, not to run it.
  for (std::vector<std::string> flags : {std::vector<std::string>{"--help", "--lease", "nonsense"},
                                         std::vector<std::string>{"--lease", "nonsense", "-h"}}) {
    auto config = parse(flags);
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_TRUE(config->help);
  }
  EXPECT_FALSE(parse({})->help);
  EXPECT_EQ(error_of({"--lease", "nonsense"}), "--lease: 'nonsense' is not a number of seconds from 0.5 to 3600, e.g. 30");
}

TEST(SupervisorConfigTest, DeliveryDefaults) {
  auto config = parse({});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->lease_ms, 30000);
  EXPECT_EQ(config->max_attempts, 3);
  EXPECT_EQ(config->retention_ms, 7LL * 24 * 3600 * 1000);
  EXPECT_EQ(config->buffer_cap_bytes, 64ULL << 20);
}

TEST(SupervisorConfigTest, DeliveryFlagsAreRead) {
  auto config = parse({"--lease", "0.5", "--max-attempts", "5", "--retention", "12h", "--buffer-cap", "2M"});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->lease_ms, 500);
  EXPECT_EQ(config->max_attempts, 5);
  EXPECT_EQ(config->retention_ms, 12LL * 3600 * 1000);
  EXPECT_EQ(config->buffer_cap_bytes, 2ULL << 20);
  EXPECT_EQ(parse({"--retention", "0"})->retention_ms, 0) << "0 keeps everything";
}

TEST(SupervisorConfigTest, BadDeliveryValuesSayWhatIsExpected) {
  EXPECT_EQ(error_of({"--lease", "0.1"}), "--lease: '0.1' is not a number of seconds from 0.5 to 3600, e.g. 30");
  EXPECT_EQ(error_of({"--lease", "soon"}), "--lease: 'soon' is not a number of seconds from 0.5 to 3600, e.g. 30");
  EXPECT_EQ(error_of({"--max-attempts", "0"}), "--max-attempts: '0' is not a whole number from 1 to 100");
  EXPECT_EQ(error_of({"--retention", "1w"}),
            "--retention: '1w' is not a duration; use seconds or a number with s, m, h or d (e.g. 7d), or 0 to keep "
            "everything");
  EXPECT_EQ(error_of({"--buffer-cap", "10K"}), "--buffer-cap: '10K' is not a size of at least 1M, e.g. 64M");
}

// The package cache's bound (docs/protocol.md, "Supervisor"): 2G unless told, at least 1M.
TEST(SupervisorConfigTest, CacheSizeIsASizeOfAtLeastOneMebibyte) {
  auto config = parse({});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->cache_size_bytes, 2ULL << 30);
  EXPECT_EQ(parse({"--cache-size", "64M"})->cache_size_bytes, 64ULL << 20);
  EXPECT_EQ(error_of({"--cache-size", "512K"}), "--cache-size: '512K' is not a size of at least 1M, e.g. 2G");
  EXPECT_EQ(error_of({"--cache-size", "lots"}), "--cache-size: 'lots' is not a size of at least 1M, e.g. 2G");
}

TEST(SupervisorConfigTest, DurationsTakeSecondsOrAUnit) {
  EXPECT_EQ(parse_duration_seconds("90"), 90);
  EXPECT_EQ(parse_duration_seconds("90s"), 90);
  EXPECT_EQ(parse_duration_seconds("5m"), 300);
  EXPECT_EQ(parse_duration_seconds("2h"), 7200);
  EXPECT_EQ(parse_duration_seconds("7d"), 604800);
  EXPECT_EQ(parse_duration_seconds("0"), 0);
  for (const char *bad : {"", "d", "-1d", "1.5h", "7 d", "99999999999d"})
    EXPECT_FALSE(parse_duration_seconds(bad)) << bad;
}

}  // namespace
}  // namespace hutch
