#include "sandbox/exit_info.h"

#include <sys/wait.h>

#include <cstring>

namespace hutch {

ExitInfo exit_info_from_wait_status(int wait_status) {
  ExitInfo info;
  if (WIFEXITED(wait_status)) info.exit_code = WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) info.signal = WTERMSIG(wait_status);
  return info;
}

std::string signal_name(int signal_number) {
  const char *abbreviation = ::sigabbrev_np(signal_number);
  if (abbreviation == nullptr) return "signal " + std::to_string(signal_number);
  return std::string("SIG") + abbreviation;
}

}  // namespace hutch
