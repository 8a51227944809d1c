// How a process ended, from its wait status.
#pragma once

#include <optional>
#include <string>

namespace hutch {

struct ExitInfo {
  std::optional<int> exit_code;  // when it exited
  std::optional<int> signal;     // when a signal ended it
};

ExitInfo exit_info_from_wait_status(int wait_status);

// "SIGKILL" for 9; "signal 40" for numbers without a name.
std::string signal_name(int signal_number);

}  // namespace hutch
