// supervisor/log.cc: whatever a message holds, it is one line of hutchd's log (issue 10, finding 3). Every
// caller's text reaches the journal through here, so the escaping is tested here, on stderr itself.
#include "supervisor/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace hutch {
namespace {

// What log_message wrote on stderr while `log` ran.
template <typename Log>
std::string captured_stderr(Log log) {
  char path[] = "/tmp/hutch-log-test-XXXXXX";
  int file = ::mkstemp(path);
  EXPECT_GE(file, 0);
  int saved = ::dup(STDERR_FILENO);
  ::dup2(file, STDERR_FILENO);
  log();
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(file);
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  ::unlink(path);
  return text.str();
}

TEST(SupervisorLog, EveryMessageIsOneLineWithItsControlCharactersEscaped) {
  ::unsetenv("JOURNAL_STREAM");
  std::string written = captured_stderr([] {
    log_error("job 1-0: entry 'x\n2026-01-01T00:00:00.000Z ERROR forged\r\x1b]0;owned\x07' is not a program");
  });
  ASSERT_EQ(std::count(written.begin(), written.end(), '\n'), 1) << written;
  EXPECT_NE(written.find(" ERROR job 1-0: entry 'x\\n2026-01-01T00:00:00.000Z ERROR forged\\r\\x1b]0;owned\\x07' "
                         "is not a program\n"),
            std::string::npos)
      << written;
  EXPECT_EQ(written.find('\x1b'), std::string::npos);
}

}  // namespace
}  // namespace hutch
