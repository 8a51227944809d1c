// Finding an entry's program as the sandbox sees /usr (catalog/entry_program.h), on this host's own /usr
// (Debian 12: merged /usr, python3 -> python3.11, awk through /etc/alternatives).
#include "catalog/entry_program.h"

#include <sys/stat.h>

#include "gtest/gtest.h"

namespace hutch {
namespace {

std::string refusal(const std::string &word) {
  auto found = resolve_usr_program(word);
  return found ? "(found " + *found + ")" : found.error().message;
}

bool is_plain_file(const std::string &path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

TEST(EntryProgramTest, ProgramsResolveThroughLinksAsInTheSandbox) {
  auto python = resolve_usr_program("python3");
  ASSERT_TRUE(python) << python.error().message;
  EXPECT_TRUE(python->starts_with("/usr/bin/python3")) << *python;
  EXPECT_TRUE(is_plain_file(*python)) << *python << ": every link followed";
  auto sh = resolve_usr_program("/bin/sh");  // /bin -> usr/bin, sh -> dash
  ASSERT_TRUE(sh) << sh.error().message;
  EXPECT_TRUE(sh->starts_with("/usr/bin/")) << *sh;
  EXPECT_TRUE(is_plain_file(*sh));
  struct stat alternatives {};
  if (::lstat("/etc/alternatives/awk", &alternatives) == 0) {
    auto awk = resolve_usr_program("awk");
    ASSERT_TRUE(awk) << awk.error().message;
    EXPECT_TRUE(is_plain_file(*awk)) << *awk;
  }
}

TEST(EntryProgramTest, PathsAreNormalisedBeforeAnyCheck) {
  const std::string rule = "; the program must be a file of the package or a program under /usr";
  EXPECT_EQ(refusal("/usr/../etc/passwd"), "'/usr/../etc/passwd' leads to '/etc/passwd', outside /usr" + rule);
  EXPECT_EQ(refusal("/usr/bin/../../tmp/x"), "'/usr/bin/../../tmp/x' leads to '/tmp/x', outside /usr" + rule);
  EXPECT_EQ(refusal("/tmp/x"), "'/tmp/x' is outside /usr" + rule);
  EXPECT_EQ(refusal("/etc/alternatives"), "'/etc/alternatives' is outside /usr" + rule);
  EXPECT_EQ(refusal("/usr/lib"), "'/usr/lib' is a directory, not a regular file");
  EXPECT_EQ(refusal("/usr/bin/hutch-no-such-program"), "'/usr/bin/hutch-no-such-program' does not exist");
  EXPECT_EQ(refusal("hutch-no-such-program"),
            "'hutch-no-such-program' is neither a file of the package nor a program in /usr/local/bin, /usr/bin or /bin");
  EXPECT_EQ(refusal("bin/sh"),
            "'bin/sh' is neither a file of the package nor a program in /usr/local/bin, /usr/bin or /bin");
  EXPECT_EQ(refusal("/usr/bin/env/x"), "'/usr/bin/env/x' leads to '/usr/bin/env', which is not a directory");
}

}  // namespace
}  // namespace hutch
