// Attacks on the host's files and devices (issue 3: 4, 5, 8, 12): reading secrets, writing outside the
// job's own directories, opening or making device nodes, and a setuid-root binary. The job's filesystem is
// a private copy of a read-only skeleton (sandbox/mounts.cc) with its own tmpfs /tmp and /work.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "gmock/gmock.h"
#include "tests/security/security_test.h"
#include "tests/support/record_checks.h"

using testing::HasSubstr;
using testing::StartsWith;

namespace hutch::test {
namespace {

TEST_F(SecurityTest, HostSecretsAndTheSupervisorCannotBeRead) {
  HUTCH_REQUIRE_ROOT();
  std::string input = "{\"supervisor_pid\":" + std::to_string(hutchd().pid()) + "}";
  Fields record = run_job({{"function", "read_secrets"}, {"input", input}, {"timeout", "10"}});
  expect_denied_without_error(record);
  nlohmann::json read = output_of(record).value("read", nlohmann::json::object());
  const std::string supervisor = "/proc/" + std::to_string(hutchd().pid());
  ASSERT_TRUE(read.contains(supervisor + "/mem")) << read.dump();
  for (const auto &[path, result] : read.items()) EXPECT_NE(result, "ok") << path << " was readable";
  // Not in the job's filesystem at all:
  for (const char *absent : {"/etc/shadow", "/etc/gshadow", "/root", "/home"})
    EXPECT_EQ(read.value(absent, "?"), "ENOENT") << absent;
  // hutchd is not in the job's PID namespace:
  for (const std::string &file : {supervisor + "/mem", supervisor + "/environ", supervisor + "/root/etc/shadow"})
    EXPECT_EQ(read.value(file, "?"), "ENOENT") << file;
  expect_hutchd_still_serves();
}

TEST_F(SecurityTest, WritesOnlyReachTmpAndTheWorkingDirectory) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "write_outside"}, {"timeout", "10"}});
  expect_denied_without_error(record);
  nlohmann::json output = output_of(record);
  const std::string cwd = output.value("cwd", "?");
  EXPECT_EQ(cwd, "/work");
  for (const char *attempt : {"create", "mkdir"}) {
    nlohmann::json results = output.value(attempt, nlohmann::json::object());
    ASSERT_GE(results.size(), 13u) << results.dump();
    for (const auto &[directory, result] : results.items()) {
      if (directory == "/tmp" || directory == cwd)
        EXPECT_EQ(result, "ok") << attempt << " in " << directory << " must work";
      else
        EXPECT_NE(result, "ok") << attempt << " in " << directory << " must fail";
    }
  }
  nlohmann::json overwrite = output.value("overwrite", nlohmann::json::object());
  ASSERT_GE(overwrite.size(), 8u) << overwrite.dump();
  for (const auto &[file, result] : overwrite.items()) {
    if (file == "/dev/null")
      EXPECT_EQ(result, "ok") << "the control: /dev/null takes writes";
    else
      EXPECT_NE(result, "ok") << file << " opened for writing";
  }
  expect_hutchd_still_serves();
}

TEST_F(SecurityTest, NoDeviceBeyondTheHarmlessOnesAndNoMknod) {
  HUTCH_REQUIRE_ROOT();
  Fields record = run_job({{"function", "open_devices"}, {"timeout", "10"}});
  expect_denied_without_error(record);
  nlohmann::json output = output_of(record);
  nlohmann::json open = output.value("open", nlohmann::json::object());
  ASSERT_GE(open.size(), 14u) << open.dump();
  for (const auto &[path, result] : open.items())
    EXPECT_EQ(result, "ENOENT") << path << " must not exist in the job's /dev";
  nlohmann::json mknod = output.value("mknod", nlohmann::json::object());
  ASSERT_EQ(mknod.size(), 3u) << mknod.dump();
  for (const auto &[path, result] : mknod.items()) EXPECT_EQ(result, "EPERM") << "mknod " << path;
  const std::set<std::string> harmless = {"null", "zero", "full", "random", "urandom", "tty"};
  nlohmann::json devices = output.value("devices", nlohmann::json::object());
  EXPECT_EQ(devices.size(), harmless.size()) << devices.dump();
  for (const auto &[name, kind] : devices.items()) {
    EXPECT_TRUE(harmless.contains(name)) << "/dev/" << name << " (" << kind << ") must not be in the job's /dev";
    EXPECT_THAT(kind.get<std::string>(), StartsWith("char ")) << "/dev/" << name;
  }
  expect_hutchd_still_serves();
}

// report_ids installed root-owned with mode 4755 where the sandbox can see it (the host's /usr), and
// removed whatever the test does.
class SetuidRootProgram {
 public:
  SetuidRootProgram() {
    std::error_code error;
    if (!std::filesystem::exists(kDirectory)) made_directory_ = std::filesystem::create_directories(kDirectory, error);
    path_ = std::string(kDirectory) + "/hutch-test-setuid-" + std::to_string(::getpid());
    installed_ =
        std::filesystem::copy_file(REPORT_IDS_PATH, path_, std::filesystem::copy_options::overwrite_existing, error) &&
        ::chown(path_.c_str(), 0, 0) == 0 && ::chmod(path_.c_str(), 04755) == 0;
  }
  ~SetuidRootProgram() {
    ::unlink(path_.c_str());
    if (made_directory_) ::rmdir(kDirectory);
  }
  SetuidRootProgram(const SetuidRootProgram &) = delete;
  SetuidRootProgram &operator=(const SetuidRootProgram &) = delete;

  bool installed() const { return installed_; }
  const std::string &path() const { return path_; }

 private:
  static constexpr const char *kDirectory = "/usr/local/libexec";
  std::string path_;
  bool made_directory_ = false;
  bool installed_ = false;
};

// The control: run by nobody on the host, the program does get euid 0, so the attack is real.
std::string run_as_nobody(const std::string &path) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return "pipe failed";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    if (::setgroups(0, nullptr) == 0 && ::setresgid(65534, 65534, 65534) == 0 && ::setresuid(65534, 65534, 65534) == 0)
      ::execl(path.c_str(), path.c_str(), static_cast<char *>(nullptr));
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  std::string output;
  char buffer[256];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) output.append(buffer, static_cast<size_t>(n));
  ::close(pipe_fds[0]);
  if (pid > 0) ::waitpid(pid, nullptr, 0);
  return output.substr(0, output.find('\n'));
}

// Two layers stop it, and the test checks both are in force: the sandbox's /usr is bound nosuid
// (sandbox/mounts.cc), and no_new_privs (child.cc) makes execve ignore the setuid bit anyway.
TEST_F(SecurityTest, SetuidRootBinaryGrantsNothing) {
  HUTCH_REQUIRE_ROOT();
  SetuidRootProgram program;
  ASSERT_TRUE(program.installed()) << "could not install " << program.path();
  ASSERT_THAT(run_as_nobody(program.path()), HasSubstr(" euid=0 ")) << "on the host the setuid bit works";

  std::string input = nlohmann::json{{"path", program.path()}}.dump();
  Fields record = run_job({{"function", "setuid_exec"}, {"input", input}, {"timeout", "10"}});
  expect_denied_without_error(record);
  nlohmann::json output = output_of(record);
  EXPECT_EQ(output["file"], (nlohmann::json{{"setuid", true}, {"owner", 0}}))
      << "the sandbox sees the setuid-root file";
  EXPECT_EQ(output.value("nosuid", false), true) << "layer 1: the job's /usr is mounted nosuid";
  EXPECT_EQ(output.value("no_new_privs", "?"), "1") << "layer 2: no_new_privs";
  const std::string uid = std::to_string(output.value("uid", 0));
  EXPECT_GE(output.value("uid", 0), static_cast<int>(uid_base()));
  EXPECT_EQ(output.value("ran", "?"), "uid=" + uid + " euid=" + uid + " suid=" + uid + " capeff=0000000000000000")
      << "it ran, and gained nothing";
  expect_hutchd_still_serves();
}

}  // namespace
}  // namespace hutch::test
