// The systemd unit and scripts/install: the unit passes `systemd-analyze verify` (pointed at this build's
// hutchd), and an install into a staging directory lays out the programs, the unit and the settings file so
// that the installed hutchd finds its helpers beside itself. No Redis, no root.
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/hutch_test.h"

namespace hutch::test {
namespace {

using testing::HasSubstr;

bool executable(const std::string &path) { return ::access(path.c_str(), X_OK) == 0; }

void write_text(const std::string &path, const std::string &text) {
  std::ofstream out(path);
  out << text;
}

// Lines of `text` that mention `word`.
std::vector<std::string> lines_with(const std::string &text, const std::string &word) {
  std::vector<std::string> found;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(word) != std::string::npos) found.push_back(line);
  }
  return found;
}

TEST(InstallTest, TheUnitPassesSystemdAnalyzeVerify) {
  if (!executable("/usr/bin/systemd-analyze")) {
    if (running_in_ci()) FAIL() << "systemd-analyze is missing (scripts/deps.txt lists systemd)";
    GTEST_SKIP() << "systemd-analyze is not installed (package systemd)";
  }
  std::string unit = read_file_text(std::string(HUTCH_SOURCE_DIR) + "/scripts/hutchd.service");
  ASSERT_THAT(unit, HasSubstr("ExecStart=/usr/local/bin/hutchd\n"));
  unit = std::regex_replace(unit, std::regex("ExecStart=[^\n]*"), "ExecStart=" + hutchd_path());
  TempDir directory("hutch-test-unit");
  std::string path = directory.path() + "/hutchd.service";
  write_text(path, unit);

  CommandResult verified = run_command({"/usr/bin/systemd-analyze", "verify", path}, 30s);
  EXPECT_EQ(verified.exit_code(), 0) << verified.out << verified.err;
  // It reports problems in a unit as warnings and still exits 0: none may name ours.
  EXPECT_THAT(lines_with(verified.out + verified.err, "hutchd.service"), testing::IsEmpty());

  // The settings it promises are there.
  for (const char *setting : {"Type=notify", "NotifyAccess=main", "Restart=always", "Delegate=yes", "KillMode=mixed",
                              "EnvironmentFile=-/etc/hutch/hutchd.env", "Environment=HUTCH_CONSUMER=%H"})
    EXPECT_THAT(unit, HasSubstr(std::string(setting) + "\n"));
  // Longer than the default drain grace (30 s) plus the final writes (10 s).
  std::smatch stop;
  ASSERT_TRUE(std::regex_search(unit, stop, std::regex("TimeoutStopSec=([0-9]+)\n")));
  EXPECT_GT(std::stoi(stop[1]), 40);
}

TEST(InstallTest, InstallsIntoADestdirWithoutOverwritingTheSettings) {
  TempDir destination("hutch-test-install");
  std::string root = destination.path();
  std::string install = std::string(HUTCH_SOURCE_DIR) + "/scripts/install";
  std::vector<std::string> environment = {std::string("BUILD_DIR=") + HUTCH_BUILD_DIR};

  CommandResult first = run_command({install, "--destdir", root, "--prefix", "/opt/hutch"}, 60s, environment);
  ASSERT_EQ(first.exit_code(), 0) << first.out << first.err;
  for (const char *program : {"hutchd", "hutch", "hutch-fn", "hutch-image", "hutch-spawner"})
    EXPECT_TRUE(executable(root + "/opt/hutch/bin/" + program)) << program;
  std::string unit = read_file_text(root + "/etc/systemd/system/hutchd.service");
  EXPECT_THAT(unit, HasSubstr("\nExecStart=/opt/hutch/bin/hutchd\n"));
  std::string settings_path = root + "/etc/hutch/hutchd.env";
  EXPECT_EQ(read_file_text(settings_path), read_file_text(std::string(HUTCH_SOURCE_DIR) + "/scripts/hutchd.env"));
  struct stat settings {};
  ASSERT_EQ(::stat(settings_path.c_str(), &settings), 0);
  EXPECT_EQ(settings.st_mode & 07777, 0600u) << "HUTCH_REDIS may hold a password: readable by root only";
  // Nothing is started for a staging directory: it says what to run on the machine.
  EXPECT_THAT(first.err, HasSubstr("systemctl daemon-reload && systemctl enable --now hutchd"));

  // The installed hutchd finds its helpers beside itself (--check names the two it checks).
  CommandResult check = run_command({root + "/opt/hutch/bin/hutchd", "--check"}, 30s);
  EXPECT_NE(check.exit_code(), -1) << "hutchd --check did not run to the end";
  for (const char *helper : {"hutch-fn", "hutch-spawner"})
    EXPECT_THAT(check.out + check.err, HasSubstr(root + "/opt/hutch/bin/" + helper)) << check.out << check.err;

  // A second install (an upgrade) keeps the settings an operator edited.
  write_text(settings_path, "HUTCH_CONCURRENCY=3\n");
  CommandResult second = run_command({install, "--destdir", root, "--prefix", "/opt/hutch"}, 60s, environment);
  ASSERT_EQ(second.exit_code(), 0) << second.out << second.err;
  EXPECT_EQ(read_file_text(settings_path), "HUTCH_CONCURRENCY=3\n");
  EXPECT_THAT(second.err, HasSubstr("kept your " + settings_path));
}

}  // namespace
}  // namespace hutch::test
